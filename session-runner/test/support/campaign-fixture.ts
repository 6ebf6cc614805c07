import { setImmediate as tick } from "node:timers/promises";
import {
  builtInProfiles,
  CampaignService,
  type ContactDoc,
  campaignDocSchema,
  campaignPath,
  createRefs,
  dailyBudget,
  GovernorStore,
  type PacingProfile,
  type RecipientDoc,
  recipientDocSchema,
  systemAuditContext,
  type TenantAccess,
  templatePath,
  tenantContactPath,
  zodConverter,
} from "@whatsdex/core";
import { uniqueId, waitFor } from "@whatsdex/core/testing";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import type { CampaignClock } from "../../src/bot/campaigns/campaign-clock.ts";
import type { Supervisor } from "../../src/runner/supervisor.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./fleet.ts";

/**
 * Time that jumps instead of passing: each wait of the campaign driver moves it forward by the
 * wait, at once, so days of paced sending run in seconds. It never moves back, so a limit the
 * governor enforces at real speed holds here too (a send can only come later, never earlier).
 */
export class JumpClock implements CampaignClock {
  #t: number;

  constructor(start: number) {
    this.#t = start;
  }

  now = (): number => this.#t;

  sleep = async (ms: number, signal: AbortSignal): Promise<void> => {
    if (!signal.aborted && ms > 0) this.#t += ms;
    await tick();
  };

  /** Moves time forward by `ms` (a test's "later that day"). */
  advance(ms: number): void {
    this.#t += ms;
  }
}

/** A Monday, 10:00 in Jakarta: inside sending hours. */
export const MONDAY_10_JAKARTA = Date.UTC(2026, 11, 7, 3, 0);

export const phoneOf = (i: number) => String(6281300000000 + i);
export const jidOf = (i: number) => `${phoneOf(i)}@s.whatsapp.net`;

/** `count` contacts tagged `tag`, numbered from `from`, written in bulk. */
export async function addContacts(db: Firestore, tenantId: string, from: number, count: number, tag = "vip") {
  const writer = db.bulkWriter();
  const now = Timestamp.now();
  for (let i = from; i < from + count; i++) {
    const contact: ContactDoc = {
      lid: null,
      pn: jidOf(i),
      name: `Person ${i}`,
      tags: [tag],
      fields: { city: i % 2 === 0 ? "Bandung" : "Medan" },
      optOut: null,
      importId: null,
      createdAt: now,
      updatedAt: now,
    };
    void writer.set(db.doc(tenantContactPath(tenantId, `pn:${phoneOf(i)}`)), contact);
  }
  await writer.close();
}

/** A valid template, as the templates service would have saved it. */
export async function addTemplate(db: Firestore, tenantId: string, body = "Hi {{name}} from {{city|Jakarta}}!") {
  const templateId = uniqueId("tpl");
  const now = Timestamp.now();
  await db.doc(templatePath(tenantId, templateId)).set({
    name: "Launch",
    body,
    language: "en",
    fallbacks: {},
    media: null,
    variables: ["name", "city"],
    maxLength: 400,
    createdBy: "user:test",
    createdAt: now,
    updatedAt: now,
  });
  return templateId;
}

/** Creates and schedules a campaign through the real service; returns its id. */
export async function scheduleCampaign(
  db: Firestore,
  access: TenantAccess,
  input: { botIds: string[]; templateId: string; tag?: string; now: () => number },
) {
  const service = new CampaignService(createRefs(db), { now: input.now });
  const { id } = await service.create(
    access,
    {
      name: "Launch",
      botIds: input.botIds,
      templateId: input.templateId,
      audience: { kind: "tags", tags: [input.tag ?? "vip"], match: "any" },
      timezone: "Asia/Jakarta",
    },
    systemAuditContext,
  );
  await service.schedule(access, id, systemAuditContext);
  return { campaignId: id, service };
}

/** Every message the simulated WhatsApp server received, with the campaign clock's time. */
export function sendLog(whatsapp: SimulatedWhatsApp, clock: CampaignClock) {
  const log: Array<{ at: number; jid: string; text: string }> = [];
  whatsapp.onSent((_socket, sent) => {
    const message = sent.message.message;
    log.push({
      at: clock.now(),
      jid: sent.jid,
      text: message?.conversation ?? message?.extendedTextMessage?.text ?? message?.imageMessage?.caption ?? "",
    });
  });
  return log;
}

/**
 * The governor's limits checked from what the server received: never more than the profile allows
 * in any minute, hour or 24 hours (the day's budget as warm-up from `linkedAt` sets it).
 */
export function windowViolations(
  times: readonly number[],
  profile: PacingProfile,
  linkedAt: number,
): Array<{ window: string; at: number; count: number }> {
  const violations: Array<{ window: string; at: number; count: number }> = [];
  const windows: Array<[string, number, (at: number) => number]> = [
    ["minute", 60_000, () => profile.perMinute],
    ["hour", 3_600_000, () => profile.perHour],
    ["day", 86_400_000, (at) => dailyBudget(profile, linkedAt, at).limit],
  ];
  const sorted = [...times].sort((a, b) => a - b);
  for (const [window, ms, limit] of windows) {
    let start = 0;
    for (let end = 0; end < sorted.length; end++) {
      const at = sorted[end] ?? 0;
      while ((sorted[start] ?? 0) <= at - ms) start++;
      const count = end - start + 1;
      if (count > limit(at)) violations.push({ window, at, count });
    }
  }
  return violations;
}

export const standard = builtInProfiles.standard;

/**
 * A tenant with one simulator bot and `contacts` contacts tagged `vip`, a template, the jump clock
 * and the server's send log; `run` starts a runner (kept in `started` for the test's cleanup).
 */
export async function campaignWorld(db: Firestore, contacts: number, started: Supervisor[]) {
  const { tenantId, botIds, access } = await tenantWithBots(db, 1);
  const botId = botIds[0] ?? "";
  const clock = new JumpClock(MONDAY_10_JAKARTA);
  const whatsapp = new SimulatedWhatsApp();
  const log = sendLog(whatsapp, clock);
  await addContacts(db, tenantId, 0, contacts);
  const templateId = await addTemplate(db, tenantId);
  const run = (options: { ttlMs?: number } = {}) => {
    const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], campaignClock: clock, ...options });
    started.push(supervisor);
    supervisor.start();
    return supervisor;
  };
  const openSocket = () =>
    waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"), { timeoutMs: 30_000 });
  /**
   * Does `act` on the open socket; if the connection closed meanwhile (a renewal stalled on a loaded
   * machine ends the socket, and the runner reconnects), on the next one.
   */
  const onOpenSocket = (act: (socket: SimulatedSocket) => void) =>
    waitFor(
      "an open socket to act on",
      async () => {
        const socket = whatsapp.liveSockets.find((s) => s.state === "open");
        if (!socket) return undefined;
        try {
          act(socket);
          return true;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 30_000 },
    );
  const link = async () => {
    const qr = await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"));
    qr.link("6281234567890");
    return openSocket();
  };
  const campaign = async (campaignId: string) =>
    (await db.doc(campaignPath(tenantId, campaignId)).withConverter(zodConverter(campaignDocSchema)).get()).data();
  const recipients = async (campaignId: string, status?: RecipientDoc["status"]) => {
    const all = db
      .collection(`${campaignPath(tenantId, campaignId)}/recipients`)
      .withConverter(zodConverter(recipientDocSchema));
    const { docs } = await (status ? all.where("status", "==", status) : all).get();
    return docs.map((d) => ({ id: d.id, ...d.data() }));
  };
  const governor = () => new GovernorStore(db).load({ tenantId, botId });
  return {
    tenantId,
    botId,
    access,
    clock,
    whatsapp,
    log,
    templateId,
    run,
    link,
    openSocket,
    onOpenSocket,
    campaign,
    recipients,
    governor,
  };
}
