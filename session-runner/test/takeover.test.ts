import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { tenantWithBots } from "./support/fleet.ts";
import { lifetimes, overlaps, runnerProcess } from "./support/runner-process.ts";

/**
 * Two real runner processes share 20 simulated bots; one is killed with SIGKILL. The survivor must
 * take every bot within the lease TTL plus the takeover grace, a scan and claiming time — and at no
 * instant may both processes hold a socket for the same bot (checked from both processes' logs).
 */
const firebase = testFirebase();
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await firebase.close();
});

const TTL_MS = 3_000;
const GRACE_MS = 500;
const SCAN_MS = 200;
const CLAIM_BOUND_MS = 3_000;

function runner(id: string, tenantId: string, capacity: number) {
  return runnerProcess(id, tenantId, { capacity, ttlMs: TTL_MS, graceMs: GRACE_MS, scanMs: SCAN_MS }, children);
}

describe("two runner processes", () => {
  it("hands a SIGKILLed instance's bots to the other, never with two sockets for one bot", {
    timeout: 90_000,
  }, async () => {
    const { tenantId, botIds } = await tenantWithBots(firebase.firestore, 20, "enterprise");
    const owners = async () =>
      Promise.all(
        botIds.map(async (b) =>
          (await firebase.firestore.doc(`tenants/${tenantId}/bots/${b}/lease/current`).get()).get("owner"),
        ),
      );
    const count = async (owner: string) => (await owners()).filter((o) => o === owner).length;

    const a = runner("runner-a", tenantId, 10);
    await waitFor("runner-a to hold 10 bots", async () => ((await count("runner-a")) === 10 ? true : undefined), {
      timeoutMs: 30_000,
    });
    const b = runner("runner-b", tenantId, 20);
    await waitFor("runner-b to hold the other 10", async () => ((await count("runner-b")) === 10 ? true : undefined), {
      timeoutMs: 30_000,
    });

    // Killed between two rounds of renewals, not inside one: a client that dies mid-transaction
    // leaves the lease document locked until the emulator times the transaction out, which would
    // measure that timeout instead of the takeover (the same holds for Firestore itself).
    // runner-a's leases only: its round is the one that must not be cut in half.
    const expiries = async () =>
      (
        await Promise.all(
          botIds.map(async (b) =>
            (await firebase.firestore.doc(`tenants/${tenantId}/bots/${b}/lease/current`).get()).data(),
          ),
        )
      )
        .filter((lease) => lease?.owner === "runner-a")
        .map((lease) => Number(lease?.expiresAt?.toMillis() ?? 0));
    const before = await expiries();
    await waitFor(
      "a round of runner-a's renewals to finish",
      async () => ((await expiries()).every((at, i) => at > (before[i] ?? 0)) ? true : undefined),
      { intervalMs: 20 },
    );
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await once(a.child, "exit");
    await waitFor("runner-b to hold all 20", async () => ((await count("runner-b")) === 20 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const takeoverMs = Date.now() - killedAt;
    console.log(
      `takeover of 10 bots after SIGKILL: ${takeoverMs} ms (TTL ${TTL_MS} + grace ${GRACE_MS} + scan ${SCAN_MS})`,
    );
    expect(takeoverMs).toBeLessThan(TTL_MS + GRACE_MS + SCAN_MS + CLAIM_BOUND_MS);

    const end = Date.now();
    const inA = lifetimes(a.events, killedAt);
    const inB = lifetimes(b.events, end);
    expect(inA.size).toBe(10);
    expect(overlaps(inA, inB)).toEqual([]);

    const stopped = once(b.child, "exit");
    b.child.kill("SIGTERM");
    expect((await stopped)[0]).toBe(0);
    expect((await owners()).every((o) => o === null)).toBe(true);
  });

  it("a deposed runner (paused past its lease) writes nothing once it resumes", { timeout: 60_000 }, async () => {
    const { tenantId, botIds } = await tenantWithBots(firebase.firestore, 4, "enterprise");
    const db = firebase.firestore;
    const bot = (b: string) => db.doc(`tenants/${tenantId}/bots/${b}`);
    const owner = async (b: string) => (await db.doc(`tenants/${tenantId}/bots/${b}/lease/current`).get()).get("owner");
    const heldBy = async (id: string) =>
      (await Promise.all(botIds.map(owner))).every((o) => o === id) ? true : undefined;
    const inQr = async () =>
      (await Promise.all(botIds.map(async (b) => (await bot(b).get()).get("status.state")))).every((s) => s === "qr")
        ? true
        : undefined;

    const a = runner("runner-a", tenantId, 4);
    await waitFor("runner-a to hold the bots", () => heldBy("runner-a"), { timeoutMs: 30_000 });
    await waitFor("runner-a's bots to show a QR code", inQr, { timeoutMs: 30_000 });
    // Paused just after a round of renewals, not inside one: a client paused mid-transaction keeps the
    // lease document locked (the emulator, like Firestore, holds it until the transaction times out),
    // which would delay the takeover by that timeout rather than test the fence.
    const expiries = async () =>
      Promise.all(
        botIds.map(async (b) =>
          (await db.doc(`tenants/${tenantId}/bots/${b}/lease/current`).get()).get("expiresAt").toMillis(),
        ),
      );
    const before = await expiries();
    await waitFor(
      "a round of renewals to finish",
      async () => ((await expiries()).every((at, i) => at > (before[i] ?? 0)) ? true : undefined),
      { intervalMs: 20 },
    );
    a.child.kill("SIGSTOP");
    const b = runner("runner-b", tenantId, 4);
    await waitFor("runner-b to take the bots", () => heldBy("runner-b"), { timeoutMs: 30_000 });
    // runner-b's own QR codes, written after it took each lease (runner-a's were qr too).
    await waitFor(
      "runner-b's bots to show its QR codes",
      async () => {
        const fresh = await Promise.all(
          botIds.map(async (b) => {
            const [doc, lease] = await Promise.all([
              bot(b).get(),
              db.doc(`tenants/${tenantId}/bots/${b}/lease/current`).get(),
            ]);
            return (
              doc.get("status.state") === "qr" &&
              doc.get("status.updatedAt").toMillis() > lease.get("acquiredAt").toMillis()
            );
          }),
        );
        return fresh.every(Boolean) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const seen = async () =>
      Promise.all(
        botIds.map(async (b) => {
          const [doc, linking] = await Promise.all([
            bot(b).get(),
            db.doc(`tenants/${tenantId}/bots/${b}/linking/current`).get(),
          ]);
          return { status: doc.get("status"), linking: linking.updateTime?.toMillis() };
        }),
      );
    const beforeResume = await seen();

    const endedBefore = a.events.filter((e) => e.event === "socket_ended").length;
    a.child.kill("SIGCONT");
    // On waking, runner-a finds its leases gone, ends every socket, and tries to write "stopped":
    // the fence refuses each of those writes, so what runner-b wrote stays.
    await waitFor(
      "runner-a to end its sockets",
      async () => (a.events.filter((e) => e.event === "socket_ended").length - endedBefore >= 4 ? true : undefined),
      { timeoutMs: 15_000 },
    );
    const settled = once(a.child, "exit");
    a.child.kill("SIGTERM");
    expect((await settled)[0]).toBe(0);
    expect(await seen()).toEqual(beforeResume);
    expect(await heldBy("runner-b")).toBe(true);

    const stopped = once(b.child, "exit");
    b.child.kill("SIGTERM");
    expect((await stopped)[0]).toBe(0);
  });
});
