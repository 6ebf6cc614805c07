import {
  AccountClosing,
  authStateCollectionPath,
  ClosingRunner,
  createRefs,
  MediaStore,
  tenantDeletionRef,
} from "@whatsdex/core";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { statusCodeOf } from "../src/transport/disconnect.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import type { Transport } from "../src/transport/transport.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const refs = createRefs(db);
const logger = pino({ level: "silent" });
const started: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
afterAll(() => firebase.close());

/** The simulator, recording the status code of every connection WhatsApp closed. */
class WatchedWhatsApp extends SimulatedWhatsApp {
  readonly closes: number[] = [];

  override transport(): Transport {
    const inner = super.transport();
    return {
      connect: (options) => {
        const socket = inner.connect(options);
        socket.on("connection.update", (update) => {
          if (update.connection === "close") this.closes.push(statusCodeOf(update.lastDisconnect?.error) ?? 0);
        });
        return socket;
      },
    };
  }
}

const context = { actor: { kind: "user" as const, id: "owner" }, requestId: null };
const leaseOwner = async (tenantId: string, botId: string) =>
  (await db.doc(`tenants/${tenantId}/bots/${botId}/lease/current`).get()).get("owner") ?? null;

describe("a tenant whose account is being closed", () => {
  it("has each connected bot logged out with WhatsApp, then its runner lets go of it, and the closing deletes the rest", async () => {
    const fleet = await tenantWithBots(db, 2);
    const { tenantId, botIds } = fleet;
    // A subscription only this test's runner can cancel: under `npm test` the Functions emulator's
    // onTenantClosing runs too, and must not delete the tenant before the assertions below.
    await refs.tenant(tenantId).update({ stripeSubscriptionId: "sub_only_this_test_cancels" });
    const whatsapp = new SimulatedWhatsApp();
    const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], scanEveryMs: 100, logger });
    started.push(supervisor);
    supervisor.start();

    // Both numbers linked, as after scanning the QR codes (linking restarts the socket: 515, then open).
    const linked = new Set<SimulatedSocket>();
    const open = await waitFor("both bots to be linked and open", async () => {
      for (const socket of whatsapp.liveSockets) {
        if (socket.state === "qr" && !linked.has(socket)) {
          linked.add(socket);
          socket.link(`62812345678${linked.size}`);
        }
      }
      const opened = whatsapp.liveSockets.filter((s) => s.state === "open");
      return opened.length === 2 ? opened : undefined;
    });
    const closes: number[] = [];
    for (const socket of open) {
      socket.on("connection.update", (update) => {
        if (update.connection === "close") closes.push(statusCodeOf(update.lastDisconnect?.error) ?? 0);
      });
    }

    const { deletion } = await new AccountClosing(refs).request(fleet.access, "Fleet", context);
    for (const { botId, outboxId } of deletion.logouts) {
      await waitFor(`the logout of ${botId} to be carried out`, async () => {
        const status = (await refs.outboxItem(tenantId, botId, outboxId).get()).data()?.status;
        return status === "done" ? true : undefined;
      });
    }
    // WhatsApp was told (401: the device is unlinked), the sockets are gone and the leases given back.
    expect(closes).toEqual([401, 401]);
    await waitFor("the runner to let go of both bots", async () => (supervisor.running.size === 0 ? true : undefined));
    expect(whatsapp.liveSockets).toHaveLength(0);
    for (const botId of botIds) {
      expect(await leaseOwner(tenantId, botId)).toBeNull();
      expect((await db.collection(authStateCollectionPath(tenantId, botId)).get()).size).toBe(0);
      expect((await refs.bot(tenantId, botId).get()).data()?.status.state).toBe("logged_out");
    }

    // The closing finds every logout confirmed, and deletes everything while the runner keeps running.
    const runner = new ClosingRunner({
      db,
      media: new MediaStore(testBucket()),
      cancelSubscription: async () => undefined,
      logger,
    });
    await waitFor("the closing to be done", async () => {
      await runner.run(tenantId, { wait: false });
      return (await tenantDeletionRef(db, tenantId).get()).data()?.phase === "done" ? true : undefined;
    });
    expect(await db.doc(`tenants/${tenantId}`).listCollections()).toEqual([]);
    expect(supervisor.running.size).toBe(0);
  });

  it("connects a stopped bot that is still linked once, only to log it out with WhatsApp, then lets go of it", async () => {
    const fleet = await tenantWithBots(db, 1);
    const { tenantId, access, bots } = fleet;
    const botId = fleet.botIds[0] ?? "";
    await refs.tenant(tenantId).update({ stripeSubscriptionId: "sub_only_this_test_cancels" });
    const whatsapp = new WatchedWhatsApp();
    const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], scanEveryMs: 100, logger });
    started.push(supervisor);
    supervisor.start();
    const qr = await waitFor("the bot's QR", async () => whatsapp.liveSockets.find((s) => s.state === "qr"));
    qr.link("6281234567891");
    await waitFor("the bot to be open", async () =>
      whatsapp.liveSockets.some((s) => s.state === "open") ? true : undefined,
    );
    // Disconnected from the dashboard: stopped, credentials kept, the device still linked.
    await bots.disconnect(access, botId);
    await waitFor("the bot to be stopped and let go", async () =>
      supervisor.running.size === 0 && (await refs.bot(tenantId, botId).get()).data()?.status.state === "stopped"
        ? true
        : undefined,
    );
    const closesBefore = whatsapp.closes.length;

    const { deletion } = await new AccountClosing(refs).request(access, "Fleet", context);
    const logout = deletion.logouts[0]?.outboxId ?? "";
    await waitFor("the logout to be carried out", async () =>
      (await refs.outboxItem(tenantId, botId, logout).get()).data()?.status === "done" ? true : undefined,
    );
    // Connected again with its credentials, and WhatsApp told: 401, the device is unlinked.
    expect(whatsapp.closes.slice(closesBefore)).toContain(401);
    expect((await db.collection(authStateCollectionPath(tenantId, botId)).get()).size).toBe(0);
    expect((await refs.bot(tenantId, botId).get()).data()?.status.state).toBe("logged_out");
    await waitFor("the runner to let go of it", async () => (supervisor.running.size === 0 ? true : undefined));
    expect(whatsapp.liveSockets).toHaveLength(0);
    expect(await leaseOwner(tenantId, botId)).toBeNull();
  });

  it("never has a bot claimed, even one a late connect marked running again, and its logout is still settled", async () => {
    const fleet = await tenantWithBots(db, 1);
    const { tenantId, access, bots } = fleet;
    const botId = fleet.botIds[0] ?? "";
    const { deletion } = await new AccountClosing(refs).request(access, "Fleet", context);
    // A connect accepted by an API instance whose cache had not seen the closing yet.
    await bots.connect(access, botId, { method: "qr" });
    expect((await refs.bot(tenantId, botId).get()).data()?.desiredState).toBe("running");

    const whatsapp = new SimulatedWhatsApp();
    const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], scanEveryMs: 100, logger });
    started.push(supervisor);
    supervisor.start();
    const logout = deletion.logouts[0]?.outboxId ?? "";
    await waitFor("the logout to be settled", async () =>
      (await refs.outboxItem(tenantId, botId, logout).get()).data()?.status === "done" ? true : undefined,
    );
    // Settled without the bot ever running: claims wait for the closing tenants to be known.
    expect(whatsapp.liveSockets).toHaveLength(0);
    expect(supervisor.running.size).toBe(0);
    // The settler gives the lease back right after marking the logout done.
    await waitFor("the settler's lease to be given back", async () =>
      (await leaseOwner(tenantId, botId)) === null ? true : undefined,
    );
    expect((await refs.bot(tenantId, botId).get()).data()?.status.state).toBe("logged_out");
  });
});
