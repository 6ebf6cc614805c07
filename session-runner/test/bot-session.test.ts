import { botPath, LeaseStore, leaseFence } from "@whatsdex/core";
import { waitFor } from "@whatsdex/core/testing";
import { DisconnectReason } from "baileys";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { BotSession } from "../src/bot/session/bot-session.ts";
import { StatusWriter } from "../src/bot/session/status-writer.ts";
import { isLinked } from "../src/transport/linked-credentials.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { authStateFixture } from "./support/auth-state-fixture.ts";

const logger = pino({ level: "silent" });
const fixtures: Array<Awaited<ReturnType<typeof authStateFixture>>> = [];
afterAll(async () => {
  for (const f of fixtures) await f.firebase.close();
});

async function setup(link: { method: "qr" } | { method: "pairing_code"; phoneNumber: string } = { method: "qr" }) {
  const fixture = await authStateFixture();
  fixtures.push(fixture);
  const { db, bot } = fixture;
  const botRef = db.doc(botPath(bot.tenantId, bot.botId));
  const now = Timestamp.now();
  await botRef.set({ name: "b", desiredState: "running", status: { state: "stopped", reason: null, updatedAt: now } });
  const lease = await fixture.lease();
  const auth = await fixture.open(lease);
  const whatsapp = new SimulatedWhatsApp();
  const session = new BotSession({
    transport: whatsapp.transport(),
    auth,
    status: new StatusWriter(db, bot, leaseFence(fixture.leases, lease)),
    logger,
    link,
    backoff: { initialMs: 10, maxMs: 100, stableMs: 1_000, loopCloses: 5, loopWindowMs: 10_000 },
    connect: { getMessage: async () => undefined, cachedGroupMetadata: async () => undefined },
  });
  const latest = () => whatsapp.liveSockets.at(-1) as SimulatedSocket | undefined;
  const botDoc = async () => (await botRef.get()).data();
  const linking = async () => (await botRef.collection("linking").doc("current").get()).data();
  const state = (expected: string) =>
    waitFor(`bot state ${expected}`, async () => ((await botDoc())?.status?.state === expected ? true : undefined));
  return { fixture, lease, auth, whatsapp, session, latest, botDoc, linking, state };
}

/** Links the session's current socket and waits until it is open on the socket after the restart. */
async function linkAndOpen(t: Awaited<ReturnType<typeof setup>>) {
  await t.state("qr");
  t.latest()?.link("6281234567890");
  await t.state("open");
}

describe("bot session lifecycle", () => {
  it("publishes an expiring QR code, links, saves the credentials and opens after the 515 restart", async () => {
    const t = await setup();
    t.session.start();
    await t.state("qr");
    const linking = await t.linking();
    expect(linking?.qr?.code).toMatch(/^2@simulated-qr-/);
    expect(linking?.qr?.expiresAt.toMillis()).toBeGreaterThan(Date.now() + 50_000);

    t.latest()?.link("6281234567890");
    await t.state("open");
    expect(t.whatsapp.liveSockets).toHaveLength(1);
    expect((await t.linking())?.qr).toBeNull();
    // The dashboard shows which number is linked.
    expect((await t.botDoc())?.phoneNumber).toBe("6281234567890");
    const reloaded = await t.fixture.open(t.lease);
    expect(reloaded.state.creds).toMatchObject({ registered: false, me: { id: "6281234567890:1@s.whatsapp.net" } });
    expect(isLinked(reloaded.state.creds)).toBe(true);
    await t.session.stop();
  });

  it("publishes each rotated QR code with its shorter life, and starts over with fresh codes when they run out", async () => {
    const t = await setup();
    t.session.start();
    await t.state("qr");
    const first = t.latest();
    const firstCode = (await t.linking())?.qr?.code;
    first?.rotateQr();
    const second = await waitFor("the rotated QR code", async () => {
      const qr = (await t.linking())?.qr;
      return qr && qr.code !== firstCode ? qr : undefined;
    });
    // Later codes live 20 s, not 60 s.
    expect(second.expiresAt.toMillis()).toBeLessThan(Date.now() + 25_000);

    first?.expireQr();
    const fresh = await waitFor("a new socket with a fresh QR code", async () => {
      const qr = (await t.linking())?.qr;
      const latest = t.latest();
      return latest && latest !== first && qr && qr.code !== second.code ? qr : undefined;
    });
    expect(fresh.expiresAt.toMillis()).toBeGreaterThan(Date.now() + 50_000);
    expect(first?.closed).toBe(true);
    expect(t.whatsapp.liveSockets).toHaveLength(1);
    await t.session.stop();
  });

  it("backs off on a bad session like any transient close, on a new socket", async () => {
    const t = await setup();
    t.session.start();
    await linkAndOpen(t);
    const before = t.latest();
    before?.drop(DisconnectReason.badSession, "Bad MAC");
    await waitFor("a new open socket", async () => {
      const latest = t.latest();
      return latest && latest !== before && latest.state === "open" ? true : undefined;
    });
    // The socket opens first; its state is written to the bot document just after.
    await t.state("open");
    expect(before?.closed).toBe(true);
    await t.session.stop();
  });

  it("links by pairing code when asked to", async () => {
    const t = await setup({ method: "pairing_code", phoneNumber: "6281234567890" });
    t.session.start();
    await t.state("pairing");
    const code = (await t.linking())?.pairingCode?.code;
    expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/);
    t.latest()?.enterPairingCode(code ?? "");
    await t.state("open");
    await t.session.stop();
  });

  it("reconnects a transient drop on a new socket, with the old one ended", async () => {
    const t = await setup();
    t.session.start();
    await linkAndOpen(t);
    const before = t.latest();
    before?.drop(DisconnectReason.unavailableService);
    await waitFor("a new open socket", async () =>
      t.latest() !== before && t.session.state === "open" ? true : undefined,
    );
    expect(before?.closed).toBe(true);
    expect(t.whatsapp.liveSockets).toHaveLength(1);
    await t.state("open");
    await t.session.stop();
    expect(t.whatsapp.liveSockets).toHaveLength(0);
  });

  it("on logout from the phone: clears the session, marks it logged out and stops wanting to run", async () => {
    const t = await setup();
    t.session.start();
    await linkAndOpen(t);
    t.latest()?.drop(DisconnectReason.loggedOut);
    await t.state("logged_out");
    expect((await t.botDoc())?.desiredState).toBe("stopped");
    expect((await t.fixture.db.collection(t.fixture.collectionPath).get()).size).toBe(0);
    expect(t.whatsapp.liveSockets).toHaveLength(0);
  });

  it("never fights another holder (440) and stops on forbidden (403)", async () => {
    for (const [code, state] of [
      [DisconnectReason.connectionReplaced, "replaced"],
      [DisconnectReason.forbidden, "forbidden"],
    ] as const) {
      const t = await setup();
      t.session.start();
      await linkAndOpen(t);
      t.latest()?.drop(code);
      await t.state(state);
      expect(t.whatsapp.liveSockets).toHaveLength(0);
      if (state === "forbidden") expect((await t.botDoc())?.desiredState).toBe("stopped");
    }
  });

  it("lets go of the socket at once when its lease moves", async () => {
    const t = await setup();
    t.session.start();
    await linkAndOpen(t);
    await t.fixture.leases.release(t.lease);
    await t.fixture.lease("runner-b");
    t.latest()?.drop(DisconnectReason.unavailableService); // the next status write is refused
    await waitFor("the session to stop", async () => (t.session.state === "stopped" ? true : undefined));
    expect(t.whatsapp.liveSockets).toHaveLength(0);
    expect((await t.botDoc())?.status?.state).toBe("open"); // the deposed runner wrote nothing
  });
});

describe("leases and sessions", () => {
  it("StatusWriter refuses a deposed owner", async () => {
    const fixture = await authStateFixture();
    fixtures.push(fixture);
    const store = new LeaseStore(fixture.db, { ttlMs: 60_000 });
    const lease = await fixture.lease();
    await fixture.db.doc(botPath(fixture.bot.tenantId, fixture.bot.botId)).set({ name: "b" });
    await store.release(lease);
    await fixture.lease("runner-b");
    await expect(new StatusWriter(fixture.db, fixture.bot, leaseFence(store, lease)).write("open")).rejects.toThrow(
      /runner-b/,
    );
  });
});
