import { testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

function supervisor(
  instanceId: string,
  capacity: number,
  whatsapp: SimulatedWhatsApp,
  tenantId: string,
  ttlMs = 1_500,
) {
  return testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    instanceId,
    capacity,
    ttlMs,
    renewEveryMs: 400,
    expirySafetyMs: 300,
    scanEveryMs: 150,
  });
}

describe("supervisor", () => {
  it("shares bots within capacity, takes over a crashed instance's bots, never two sockets for one bot", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 10);
    const mine = (s: Supervisor) => [...s.running.keys()].filter((k) => k.startsWith(`${tenantId}/`));
    const [simA, simB] = [new SimulatedWhatsApp(), new SimulatedWhatsApp()];
    const a = supervisor(uniqueId("runner-a"), 6, simA, tenantId);
    const b = supervisor(uniqueId("runner-b"), 20, simB, tenantId);

    // Watch for the one thing that must never happen: a bot with live sockets in both instances.
    const overlaps: string[] = [];
    const watch = setInterval(() => {
      const live = (s: Supervisor, sim: SimulatedWhatsApp) =>
        new Set(
          [...s.running]
            .filter(([, running]) => sim.liveSockets.some((socket) => socket === running.runtime.session.socket))
            .map(([bot]) => bot),
        );
      const inB = live(b, simB);
      for (const bot of live(a, simA)) if (inB.has(bot)) overlaps.push(bot);
    }, 10);

    try {
      a.start();
      await waitFor("runner-a to take its capacity", async () => (mine(a).length === 6 ? true : undefined));
      b.start();
      await waitFor("runner-b to take the rest", async () => (mine(b).length === 4 ? true : undefined));
      expect(new Set([...mine(a), ...mine(b)]).size).toBe(10);

      const crashedAt = Date.now();
      a.abandon();
      await waitFor("runner-b to take every bot", async () => (mine(b).length === 10 ? true : undefined), {
        timeoutMs: 10_000,
      });
      const tookMs = Date.now() - crashedAt;
      // The lease TTL (1.5 s) plus the takeover grace (0.3 s), one scan (0.15 s) and claiming time.
      expect(tookMs).toBeLessThan(1_500 + 300 + 150 + 2_000);
      expect(overlaps).toEqual([]);

      const leases = await Promise.all(
        botIds.map(async (botId) => (await db.doc(`tenants/${tenantId}/bots/${botId}/lease/current`).get()).data()),
      );
      expect(new Set(leases.map((lease) => lease?.owner)).size).toBe(1);
      expect(leases.every((lease) => lease?.generation === 1 || lease?.generation === 2)).toBe(true);
    } finally {
      clearInterval(watch);
      await b.stop();
      a.abandon();
    }
    expect(simB.liveSockets).toHaveLength(0);
    const released = await db.doc(`tenants/${tenantId}/bots/${botIds[0]}/lease/current`).get();
    expect(released.get("owner")).toBeNull();
  });

  it("stops and releases a bot whose desired state turns to stopped", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 1);
    const sim = new SimulatedWhatsApp();
    const s = supervisor(uniqueId("runner"), 5, sim, tenantId);
    s.start();
    try {
      await waitFor("the bot to be claimed", async () =>
        s.running.has(`${tenantId}/${botIds[0]}`) ? true : undefined,
      );
      await db.doc(`tenants/${tenantId}/bots/${botIds[0]}`).update({ desiredState: "stopped" });
      const lease = db.doc(`tenants/${tenantId}/bots/${botIds[0]}/lease/current`);
      await waitFor("the lease to be released", async () =>
        (await lease.get()).get("owner") === null ? true : undefined,
      );
      expect(s.running.has(`${tenantId}/${botIds[0]}`)).toBe(false);
      expect(sim.liveSockets).toHaveLength(0);
    } finally {
      await s.stop();
    }
  });

  it("takes a gracefully released bot at once, not when the lease it saw would have expired", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 2);
    const mine = (s: Supervisor) => [...s.running.keys()].filter((k) => k.startsWith(`${tenantId}/`));
    // A 60 s lease: waiting for expiry would take far longer than the test allows.
    const a = supervisor(uniqueId("runner-a"), 5, new SimulatedWhatsApp(), tenantId, 60_000);
    const b = supervisor(uniqueId("runner-b"), 5, new SimulatedWhatsApp(), tenantId, 60_000);
    try {
      a.start();
      await waitFor("runner-a to hold both bots", async () => (mine(a).length === 2 ? true : undefined));
      b.start();
      // runner-b has looked at both leases and seen them held.
      await b.scan();
      expect(mine(b)).toEqual([]);
      const stoppedAt = Date.now();
      await a.stop();
      await waitFor("runner-b to take both bots", async () => (mine(b).length === 2 ? true : undefined), {
        timeoutMs: 5_000,
      });
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(new Set(mine(b))).toEqual(new Set(botIds.map((id) => `${tenantId}/${id}`)));
    } finally {
      await b.stop();
      a.abandon();
    }
  });
});
