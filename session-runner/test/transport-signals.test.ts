import { builtInProfiles, GovernorStore } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { LocalWhatsApp, startPhoneApi } from "@whatsdex/local-whatsapp";
import {
  ACCOUNT_RESTRICTED_TEXT,
  NewChatMessageCappingStatusType,
  ReachoutTimelockEnforcementType,
  WAMessageStatus,
} from "baileys";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { baileysTransport } from "../src/transport/baileys/baileys-transport.ts";
import { trustLocalWhatsApp } from "../src/transport/baileys/local-whatsapp.ts";
import {
  cappingSignal,
  connectionSignals,
  messageUpdateSignals,
  type TransportSignal,
  watchSignals,
} from "../src/transport/signals.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { startSimulatorPhones } from "../src/transport/simulator/simulator-phones.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const logger = pino({ level: "silent" });
const BOT_NUMBER = "6281234567890";
const ALICE = "6281111111111@s.whatsapp.net";

describe("WhatsApp's signals, read from Baileys' events", () => {
  it("reads message capping (quota, verdict, cycle end in Unix seconds), ignoring a payload without a verdict", () => {
    expect(
      cappingSignal({
        capping_status: NewChatMessageCappingStatusType.FIRST_WARNING,
        used_quota: 45,
        total_quota: 50,
        cycle_start_timestamp: "1780000000",
        cycle_end_timestamp: "1780604800",
      }),
    ).toEqual({ kind: "capping", status: "FIRST_WARNING", used: 45, total: 50, cycleEndsAt: 1_780_604_800_000 });
    expect(cappingSignal({ used_quota: 3, total_quota: 50 })).toBeUndefined();
  });

  it("reads a reach-out time lock set and lifted, as Baileys reports both, and a new link", () => {
    const endsAt = new Date("2026-06-01T12:00:00Z");
    expect(
      connectionSignals({
        reachoutTimeLock: {
          isActive: true,
          timeEnforcementEnds: endsAt,
          enforcementType: ReachoutTimelockEnforcementType.BIZ_QUALITY,
        },
      }),
    ).toEqual([{ kind: "reachoutLock", active: true, endsAt: endsAt.getTime(), type: "BIZ_QUALITY" }]);
    expect(
      connectionSignals({
        reachoutTimeLock: { isActive: false, enforcementType: ReachoutTimelockEnforcementType.DEFAULT },
      }),
    ).toEqual([{ kind: "reachoutLock", active: false, endsAt: null, type: "DEFAULT" }]);
    expect(connectionSignals({ isNewLogin: true })).toEqual([{ kind: "linked" }]);
    expect(connectionSignals({ connection: "open" })).toEqual([]);
  });

  it("reads a 463 error ack on one of our sends, and nothing else, as a refused send", () => {
    const key = { remoteJid: ALICE, fromMe: true, id: "3EB0A1" };
    const error = (code: string) => ({
      key,
      update: { status: WAMessageStatus.ERROR, messageStubParameters: [code, ACCOUNT_RESTRICTED_TEXT] },
    });
    expect(messageUpdateSignals([error("463")])).toEqual([{ kind: "sendRefused463", messageId: "3EB0A1" }]);
    expect(
      messageUpdateSignals([
        error("479"),
        { key, update: { status: WAMessageStatus.DELIVERY_ACK } },
        { key: { ...key, fromMe: false }, update: error("463").update },
      ]),
    ).toEqual([]);
  });
});

/**
 * The two places WhatsApp's signals come from on demand (`POST /v1/signals`): the simulator's phone
 * API, and the local WhatsApp server's, which sends them over the wire as WhatsApp does (mex
 * notifications, a 463 ack) to the bot's real Baileys socket.
 */
const worlds = [
  {
    name: "the simulator",
    transport: "simulator" as const,
    async start(tenantId: string) {
      const whatsapp = new SimulatedWhatsApp();
      const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId] });
      supervisor.start();
      cleanups.push(() => supervisor.stop());
      const phones = await startSimulatorPhones(whatsapp, { host: "127.0.0.1", port: 0, logger });
      cleanups.push(() => phones.close());
      (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link(BOT_NUMBER);
      await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));
      const reached: string[] = [];
      const stopListening = whatsapp.onSent((_s, sent) => reached.push(sent.message.key.id ?? ""));
      cleanups.push(async () => void stopListening());
      return { supervisor, phonesUrl: phones.url, reached: () => reached };
    },
  },
  {
    name: "the local WhatsApp server, over the wire",
    transport: "baileys" as const,
    async start(tenantId: string, botId: string) {
      const server = await LocalWhatsApp.start({ logger });
      trustLocalWhatsApp({ url: server.url, rootKey: server.rootPublicKey }, "test");
      cleanups.push(() => server.close());
      const supervisor = testSupervisor(db, {
        baileys: baileysTransport({ waWebSocketUrl: server.url }),
        tenantIds: [tenantId],
      });
      supervisor.start();
      cleanups.push(() => supervisor.stop());
      const phones = await startPhoneApi(server, { host: "127.0.0.1", port: 0, logger });
      cleanups.push(() => phones.close());
      const alice = await server.createPhone(ALICE.split("@")[0] ?? "", "Alice");
      const owner = await server.createPhone(BOT_NUMBER, "Owner");
      const linking = db.doc(`tenants/${tenantId}/bots/${botId}/linking/current`);
      const qr = await waitFor("a QR code", async () => (await linking.get()).get("qr.code") as string | undefined);
      await server.scanQr(owner, qr);
      await waitFor("the bot open", async () =>
        (await db.doc(`tenants/${tenantId}/bots/${botId}`).get()).get("status.state") === "open" ? true : undefined,
      );
      return { supervisor, phonesUrl: phones.url, reached: () => alice.inbox.map((entry) => entry.id) };
    },
  },
];

describe.each(worlds)("WhatsApp's signals from $name, kept by the owning runner", (world) => {
  it("emits each on demand through the phone API; the runner records them in the bot's governor state", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 1, "business", world.transport);
    const bot = { tenantId, botId: botIds[0] ?? "" };
    const linkedAt = Date.now();
    const { supervisor, phonesUrl, reached } = await world.start(tenantId, bot.botId);
    const runtime = supervisor.running.get(`${tenantId}/${bot.botId}`)?.runtime;
    const socket = runtime?.session.socket;
    if (!runtime || !socket) throw new Error("the bot is not running here");
    const seen: TransportSignal[] = [];
    watchSignals(socket, (signal) => seen.push(signal));
    // What a campaign driver in the runtime hears (a 463 names the refused message).
    const heard: TransportSignal[] = [];
    const stopHearing = runtime.signals.listen((signal) => heard.push(signal));
    cleanups.push(async () => void stopHearing());
    const post = async (body: unknown) => {
      const response = await fetch(`${phonesUrl}/v1/signals`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };

    const cycleEndsAt = "2030-01-08T00:00:00.000Z";
    expect(
      await post({ kind: "capping", botNumber: BOT_NUMBER, status: "FIRST_WARNING", used: 45, total: 50, cycleEndsAt }),
    ).toMatchObject({ status: 202 });
    const lockEnds = "2030-01-01T12:00:00.000Z";
    expect(await post({ kind: "reachoutLock", botNumber: BOT_NUMBER, endsAt: lockEnds })).toMatchObject({
      status: 202,
    });
    expect(await post({ kind: "sendRefused463", botNumber: BOT_NUMBER })).toMatchObject({ status: 202 });
    const refused = await socket.sendMessage(ALICE, { text: "hello" });
    const delivered = await socket.sendMessage(ALICE, { text: "again" });
    await waitFor("the 463", async () => (seen.some((s) => s.kind === "sendRefused463") ? true : undefined));

    expect(seen).toEqual([
      { kind: "capping", status: "FIRST_WARNING", used: 45, total: 50, cycleEndsAt: Date.parse(cycleEndsAt) },
      { kind: "reachoutLock", active: true, endsAt: Date.parse(lockEnds), type: "BIZ_QUALITY" },
      { kind: "sendRefused463", messageId: refused?.key.id },
    ]);
    expect(heard).toEqual(seen);
    // The refused message reached nobody; the next send (only one was refused) did.
    await waitFor("the second send delivered", async () => (reached().length > 0 ? true : undefined));
    expect(reached()).toEqual([delivered?.key.id]);

    // Bad requests name the field and emit nothing.
    const bad = await post({ kind: "capping", botNumber: BOT_NUMBER, status: "MAYBE" });
    expect(bad).toMatchObject({
      status: 400,
      body: { code: "invalid_request", message: expect.stringContaining("status") },
    });
    const badType = await post({ kind: "reachoutLock", botNumber: BOT_NUMBER, type: "NOT_A_TYPE" });
    expect(badType).toMatchObject({ status: 400, body: { message: expect.stringContaining("type: must be one of") } });
    expect(await post({ kind: "sendRefused463", botNumber: "6289999999999" })).toMatchObject({
      status: 404,
      body: { code: "bot_not_connected" },
    });
    expect(seen).toHaveLength(3);

    // The owning runner wrote each to the bot's governor state, where the campaign driver reads them.
    const governor = new GovernorStore(db).forBot(bot);
    const state = await waitFor("the signals in the governor state", async () => {
      const current = await governor.state();
      return current.stopped && current.signals.reachoutLock && current.signals.capping ? current : undefined;
    });
    expect(state.linkedAt).toBeGreaterThanOrEqual(linkedAt);
    expect(state.signals.capping).toMatchObject({ status: "FIRST_WARNING", used: 45, total: 50 });
    expect(state.signals.reachoutLock).toMatchObject({
      active: true,
      endsAt: Date.parse(lockEnds),
      type: "BIZ_QUALITY",
    });
    expect(state.stopped).toMatchObject({ reason: "whatsapp_refused_463" });
    const request = { textLength: 10, recipientWrote: true, timezone: "UTC" };
    expect(await governor.next(request, builtInProfiles.standard)).toMatchObject({ kind: "stop" });

    // Lifted, as WhatsApp lifts it: the lock no longer holds anything back.
    expect(await post({ kind: "reachoutLock", botNumber: BOT_NUMBER, active: false })).toMatchObject({ status: 202 });
    await waitFor("the lock lifted", async () =>
      (await governor.state()).signals.reachoutLock?.active === false ? true : undefined,
    );
  });
});
