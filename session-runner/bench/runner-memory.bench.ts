import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { EventRecorder } from "../test/support/event-recorder.ts";
import { tenantWithBots, testSupervisor } from "../test/support/fleet.ts";

/** Bots per tenant: the largest plan's limit, so a fleet is several tenants, as in production. */
const PER_TENANT = 50;
const SMALL = 100;
const LARGE = 500;
/** Traffic each bot has seen before measuring: identity entries and retry-store entries. */
const MESSAGES = 20;

/** The most heap one held bot may cost, in any step and overall; the fleet's size depends on it. */
const CEILING_KIB_PER_BOT = 256;

setFlagsFromString("--expose-gc");
// Bytecode is not per bot, but V8 flushes what has not run lately: the code that made the tenants
// went during the first step and made it look ~100 KiB per bot cheaper than the rest.
setFlagsFromString("--no-flush-bytecode");
const gc: unknown = runInNewContext("gc");

function afterGc(): { heap: number; arrayBuffers: number } {
  if (typeof gc !== "function") throw new Error("global gc is not exposed");
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, arrayBuffers };
}

/**
 * Heap per held bot: a supervisor takes SMALL bots (linked, open, with some traffic), then a second
 * takes the rest up to LARGE. The simulator stands in for Baileys' socket, so this is what the
 * runner itself keeps per bot (runtime, auth-state cache, identity, group and recent-message
 * stores, outbox listener), not the Baileys socket's own memory.
 */
export const suite: BenchSuite = {
  name: "runner-memory",
  description: `heap per held bot, added ${SMALL} at a time up to ${LARGE} simulated open bots, each after ${MESSAGES} messages in and out`,
  needs: ["firestore"],
  factLimits: {
    // Per-bot memory must not grow with the fleet (no structure shared across bots that grows per bot) …
    marginalRatioLastToFirst: { max: 1.3 },
    // … and must stay small in itself: a flat 800 KiB per bot passes the ratio.
    ...Object.fromEntries(
      Array.from({ length: LARGE / SMALL }, (_, i) => [
        `marginalHeapKiBPerBot_bots${(i + 1) * SMALL}`,
        { max: CEILING_KIB_PER_BOT },
      ]),
    ),
    heapKiBPerBot_at500: { max: CEILING_KIB_PER_BOT },
  },
  async setup() {
    const firebase = testFirebase();
    const db = firebase.firestore;
    const tenants: string[] = [];
    for (let i = 0; i < LARGE / PER_TENANT; i++)
      tenants.push((await tenantWithBots(db, PER_TENANT, "enterprise")).tenantId);
    const whatsapp = new SimulatedWhatsApp();
    const supervisors: Supervisor[] = [];
    const supervise = (onlyTenants: string[], capacity: number) => {
      // One shared Firestore client and simulator, as one runner process has.
      const supervisor = testSupervisor(db, {
        whatsapp,
        tenantIds: onlyTenants,
        capacity,
        ttlMs: 120_000,
        scanEveryMs: 500,
        // Published as in production with no webhook endpoint: nothing kept.
        eventSink: new EventRecorder({ keep: false }),
      });
      supervisors.push(supervisor);
      supervisor.start();
      return supervisor;
    };
    const openAll = async (supervisor: Supervisor, count: number) => {
      await waitFor(`${count} bots claimed`, async () => (supervisor.running.size === count ? true : undefined), {
        timeoutMs: 300_000,
      });
      for (const { runtime } of supervisor.running.values()) {
        const socket = await waitFor("a QR code", async () => {
          const live = whatsapp.liveSockets.find((s) => s === runtime.session.socket);
          return live?.state === "qr" ? live : undefined;
        });
        socket.link(`62812${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`);
      }
      await waitFor(
        `${count} bots open`,
        async () =>
          [...supervisor.running.values()].every((r) => r.runtime.session.state === "open") ? true : undefined,
        { timeoutMs: 120_000 },
      );
      for (const { runtime } of supervisor.running.values()) {
        const socket = whatsapp.liveSockets.find((s) => s === runtime.session.socket) as SimulatedSocket;
        for (let m = 0; m < MESSAGES; m++) {
          const lid = `${String(1e11 + m)}@lid`;
          socket.deliver({
            key: { remoteJid: lid, remoteJidAlt: `6285${String(1e8 + m)}@s.whatsapp.net`, id: `IN${m}`, fromMe: false },
            message: { conversation: `hello ${m}` },
            pushName: `User ${m}`,
          });
          runtime.recent.remember(await socket.sendMessage(lid, { text: `reply number ${m} with some text` }));
        }
        await runtime.flushPeople();
      }
    };

    // Five instances' worth of 100 bots each, added one after another: the marginal heap per bot
    // of each step shows whether a bot costs more as the fleet in one process grows.
    const before = afterGc();
    const heaps = [before.heap];
    for (let step = 0; step < LARGE / SMALL; step++) {
      const perStep = SMALL / PER_TENANT;
      const supervisor = supervise(tenants.slice(step * perStep, (step + 1) * perStep), SMALL);
      await openAll(supervisor, SMALL);
      heaps.push(afterGc().heap);
    }
    const after = afterGc();
    const marginal = heaps.slice(1).map((heap, i) => (heap - (heaps[i] ?? heap)) / SMALL / 1024);
    const first = marginal[0] ?? Number.NaN;
    const last = marginal.at(-1) ?? Number.NaN;
    const total = ((heaps.at(-1) ?? 0) - (heaps[0] ?? 0)) / LARGE / 1024;
    // Outside the heap: Buffers' memory (auth keys, gRPC messages, listener resume tokens), reported only.
    const arrayBuffers = (after.arrayBuffers - before.arrayBuffers) / LARGE / 1024;

    return {
      tasks: {},
      facts: () => ({
        ...Object.fromEntries(marginal.map((kib, i) => [`marginalHeapKiBPerBot_bots${(i + 1) * SMALL}`, kib])),
        heapKiBPerBot_at500: total,
        marginalRatioLastToFirst: last / first,
        arrayBuffersKiBPerBot_at500: arrayBuffers,
        rssMiB_at500: process.memoryUsage().rss / 1024 / 1024,
      }),
      teardown: async () => {
        for (const supervisor of supervisors) await supervisor.stop();
        await firebase.close();
      },
    };
  },
};
