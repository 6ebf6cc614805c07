import { createRefs } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

describe("a suspended tenant's bots", () => {
  it("are not claimed while it is suspended, run once it is reinstated, and are released when it is suspended again", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 2);
    const tenant = createRefs(db).tenant(tenantId);
    const leaseOwner = async (botId: string) =>
      (await db.doc(`tenants/${tenantId}/bots/${botId}/lease/current`).get()).get("owner") ?? null;
    await tenant.update({ status: "suspended" });

    const whatsapp = new SimulatedWhatsApp();
    const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], scanEveryMs: 100 });
    supervisor.start();
    try {
      // Several scans' worth: a suspended tenant's bot is never started, not even before the listener answers.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(supervisor.running.size).toBe(0);
      expect(whatsapp.liveSockets).toHaveLength(0);
      expect(await leaseOwner(botIds[0] ?? "")).toBeNull();

      await tenant.update({ status: "active" });
      await waitFor("both bots to run", async () =>
        supervisor.running.size === 2 && whatsapp.liveSockets.length === 2 ? true : undefined,
      );

      await tenant.update({ status: "suspended" });
      await waitFor("both bots to be released", async () => (supervisor.running.size === 0 ? true : undefined));
      // Sockets ended (so nothing more is answered) and leases given back.
      expect(whatsapp.liveSockets).toHaveLength(0);
      for (const botId of botIds) expect(await leaseOwner(botId)).toBeNull();
    } finally {
      await supervisor.stop();
    }
  });
});
