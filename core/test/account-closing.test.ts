import { Storage } from "@google-cloud/storage";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { AccessCache } from "../src/access/access-cache.ts";
import { AccessService } from "../src/access/access-service.ts";
import { auditCollection } from "../src/audit/audit-log.ts";
import { BotService } from "../src/bots/bot-service.ts";
import { AccountClosing, tenantDeletionRef } from "../src/closing/account-closing.ts";
import { ClosingRunner } from "../src/closing/closing-runner.ts";
import { ValidationError } from "../src/errors/domain-error.ts";
import { createRefs } from "../src/firestore/refs.ts";
import { MediaStore } from "../src/media/media-store.ts";
import { TenantService } from "../src/tenants/tenant-service.ts";
import { requireEnv, testBucket, testFirebase, uniqueId, waitFor } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const refs = createRefs(db);
const media = new MediaStore(testBucket());
const logger = pino({ level: "silent" });
const tenantsMade: string[] = [];
afterAll(async () => {
  // Closings left unfinished on purpose (waiting for logouts) keep their logouts pending, and the
  // runner's tests share this emulator's pending commands: what a test made, it takes away.
  for (const tenantId of tenantsMade) {
    await db.recursiveDelete(db.doc(`tenants/${tenantId}`));
    await tenantDeletionRef(db, tenantId).delete();
  }
  await firebase.close();
});

/** A tenant with bots, a subscription, media under every prefix, and data in its collections. */
async function tenantToClose(botCount = 2) {
  const principal = { kind: "user" as const, uid: uniqueId("owner"), email: "owner@example.test" };
  const name = `Closing ${uniqueId("t")}`;
  const { id: tenantId } = await new TenantService(refs).create(principal, { name });
  tenantsMade.push(tenantId);
  const subscriptionId = uniqueId("sub");
  await refs.tenant(tenantId).update({ plan: "business", stripeSubscriptionId: subscriptionId });
  const access = await new AccessService(refs, new AccessCache({ ttlMs: 0 })).require(
    principal,
    tenantId,
    "tenant:delete",
  );
  const bots = new BotService(refs, { allowSimulator: true });
  const botIds: string[] = [];
  for (let i = 0; i < botCount; i++) {
    const { id } = await bots.create(access, { name: `bot ${i}`, transport: "simulator" });
    await bots.connect(access, id, { method: "qr" });
    await db.doc(`tenants/${tenantId}/bots/${id}/auth/creds`).set({ noiseKey: "secret" });
    await db.doc(`tenants/${tenantId}/bots/${id}/contacts/lid:100000000001`).set({ name: "Ann" });
    botIds.push(id);
  }
  await media.putUpload(tenantId, "up-1", { mimetype: "image/png", data: Buffer.from("png") });
  const bot = botIds[0] ? { tenantId, botId: botIds[0] } : undefined;
  if (bot) {
    await media.putInbound(bot, "in-1", { mimetype: "image/png", data: Buffer.from("in") });
    await media.put(bot, "tr-1", { mimetype: "image/png", data: Buffer.from("tr") });
  }
  return { tenantId, name, subscriptionId, access, botIds };
}

function recordingCancel() {
  const calls: Array<[string, string]> = [];
  let failuresLeft = 0;
  return {
    calls,
    failNext(times: number) {
      failuresLeft = times;
    },
    cancel: async (tenantId: string, stripe: { subscriptionId: string | null }) => {
      calls.push([tenantId, stripe.subscriptionId ?? ""]);
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error("Stripe answered 500");
      }
    },
  };
}

/**
 * Under `npm test` the Functions emulator runs onTenantClosing too, for every closing a test makes:
 * a second runner, as the sweep is in production. It cannot cancel these tests' subscriptions (its
 * Stripe does not know them), so it never gets past the first phase on its own; but it may hold the
 * claim for a moment, so the tests' runs wait their turn, and only outcomes are asserted.
 */
async function finish(runner: ClosingRunner, tenantId: string): Promise<void> {
  await waitFor(`the closing of ${tenantId} to be done`, async () => {
    await runner.run(tenantId, { wait: false });
    return (await tenantDeletionRef(db, tenantId).get()).data()?.phase === "done" ? true : undefined;
  });
}

/** One step of `runner`'s own, once no other run holds the closing. */
function ownStep(runner: ClosingRunner, tenantId: string) {
  return waitFor("a step of this runner", async () => {
    const outcome = await runner.step(tenantId);
    return outcome.kind === "skipped" && outcome.reason === "claimed" ? undefined : outcome;
  });
}

/** A run of `runner`'s own that fails: the error it failed with. */
function failedRun(runner: ClosingRunner, tenantId: string): Promise<unknown> {
  return waitFor("this runner's run to fail", () =>
    runner.run(tenantId, { wait: false }).then(
      () => undefined,
      (error: unknown) => ({ error }),
    ),
  ).then(({ error }) => error);
}

function context() {
  return { actor: { kind: "user" as const, id: "owner" }, requestId: null };
}

async function mediaLeft(tenantId: string): Promise<string[]> {
  const names: string[] = [];
  for (const prefix of ["transit/", "uploads/", "inbound/"]) {
    const [files] = await testBucket().getFiles({ prefix: `${prefix}${tenantId}/` });
    names.push(...files.map((f) => f.name));
  }
  return names;
}

async function firestoreLeft(tenantId: string): Promise<string[]> {
  const tenant = db.doc(`tenants/${tenantId}`);
  const left = (await tenant.listCollections()).map((c) => c.path);
  if ((await tenant.get()).exists) left.push(tenant.path);
  return left;
}

describe("asking to close an account", () => {
  it("refuses a confirmation that is not the tenant's exact name, naming body.confirm, and changes nothing", async () => {
    const { tenantId, name, access, botIds } = await tenantToClose(1);
    const closing = new AccountClosing(refs);
    const outboxBefore = (await refs.outbox(tenantId, botIds[0] ?? "").get()).size;
    for (const confirm of [name.toUpperCase(), ` ${name}`, "", "something else"]) {
      const error = await closing.request(access, confirm, { actor: { kind: "user", id: "u" }, requestId: null }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error instanceof ValidationError ? error.issues.map((i) => i.path) : []).toEqual(["body.confirm"]);
    }
    expect((await refs.tenant(tenantId).get()).data()?.status).toBe("active");
    expect((await tenantDeletionRef(db, tenantId).get()).exists).toBe(false);
    expect((await refs.bot(tenantId, botIds[0] ?? "").get()).data()?.desiredState).toBe("running");
    expect((await refs.outbox(tenantId, botIds[0] ?? "").get()).size).toBe(outboxBefore);
  });

  it("marks the tenant deleting, stops every bot with a logout queued, records it and audits it, once", async () => {
    const { tenantId, name, subscriptionId, access, botIds } = await tenantToClose(3);
    const closing = new AccountClosing(refs);
    const context = { actor: { kind: "user" as const, id: "owner" }, requestId: "req-1" };
    const first = await closing.request(access, name, context);
    expect(first.started).toBe(true);
    expect(first.deletion).toMatchObject({ phase: "cancel_subscription", subscriptionId, unconfirmedBots: [] });
    expect(first.deletion.logouts.map((l) => l.botId).sort()).toEqual([...botIds].sort());
    expect((await refs.tenant(tenantId).get()).data()?.status).toBe("deleting");
    for (const { botId, outboxId } of first.deletion.logouts) {
      expect((await refs.bot(tenantId, botId).get()).data()?.desiredState).toBe("stopped");
      expect((await refs.outboxItem(tenantId, botId, outboxId).get()).data()).toMatchObject({
        kind: "logout",
        status: "pending",
      });
    }
    const audit = await auditCollection(db, tenantId).where("action", "==", "tenant.closing_requested").get();
    expect(audit.docs.map((d) => d.data().requestId)).toEqual(["req-1"]);

    // Asked again (a retried request): the same record, nothing more queued or audited.
    const again = await closing.request(access, name, context);
    expect(again.started).toBe(false);
    expect(again.deletion.logouts).toEqual(first.deletion.logouts);
    const logouts = await db.collectionGroup("outbox").where("kind", "==", "logout").get();
    expect(logouts.docs.filter((d) => d.ref.path.startsWith(`tenants/${tenantId}/`))).toHaveLength(3);
    expect((await auditCollection(db, tenantId).where("action", "==", "tenant.closing_requested").get()).size).toBe(1);
  });
});

describe("asking to close an account with a malformed bot document", () => {
  it("still closes it, queuing that bot's logout too", async () => {
    const { tenantId, name, access, botIds } = await tenantToClose(1);
    await db.doc(`tenants/${tenantId}/bots/broken`).set({ name: 42, desiredState: "running" });
    const { deletion } = await new AccountClosing(refs).request(access, name, context());
    expect(deletion.logouts.map((l) => l.botId).sort()).toEqual([...botIds, "broken"].sort());
    expect((await db.doc(`tenants/${tenantId}/bots/broken`).get()).get("desiredState")).toBe("stopped");
  });
});

describe("carrying out a closing", () => {
  it("cancels the subscription, waits for the logouts, deletes media and every document, and a second run does nothing", async () => {
    const { tenantId, name, subscriptionId, access, botIds } = await tenantToClose(2);
    const { deletion } = await new AccountClosing(refs).request(access, name, {
      actor: { kind: "user", id: "owner" },
      requestId: null,
    });
    // What the bots' runner does with each logout (the session-runner's tests do it for real).
    for (const { botId, outboxId } of deletion.logouts) {
      await refs.outboxItem(tenantId, botId, outboxId).update({ status: "done" });
    }
    const stripe = recordingCancel();
    const runner = new ClosingRunner({ db, media, cancelSubscription: stripe.cancel, logger });
    await finish(runner, tenantId);

    expect(stripe.calls).toEqual([[tenantId, subscriptionId]]);
    expect(await firestoreLeft(tenantId)).toEqual([]);
    expect(await mediaLeft(tenantId)).toEqual([]);
    for (const botId of botIds)
      expect((await db.doc(`tenants/${tenantId}/bots/${botId}/auth/creds`).get()).exists).toBe(false);
    const record = (await tenantDeletionRef(db, tenantId).get()).data();
    expect(record).toMatchObject({ phase: "done", unconfirmedBots: [], claim: null });
    expect(record?.doneAt).not.toBeNull();

    expect(await runner.run(tenantId)).toEqual({ kind: "skipped", reason: "done" });
    expect(await new ClosingRunner({ db, media, cancelSubscription: stripe.cancel, logger }).step(tenantId)).toEqual({
      kind: "skipped",
      reason: "done",
    });
    expect(stripe.calls).toHaveLength(1);
  });

  it("goes on without logouts nobody confirmed once their deadline passed, naming those bots", async () => {
    const { tenantId, name, access, botIds } = await tenantToClose(2);
    await new AccountClosing(refs, { logoutWaitMs: 0 }).request(access, name, {
      actor: { kind: "user", id: "owner" },
      requestId: null,
    });
    const runner = new ClosingRunner({ db, media, cancelSubscription: recordingCancel().cancel, logger });
    await finish(runner, tenantId);
    expect((await tenantDeletionRef(db, tenantId).get()).data()?.unconfirmedBots.sort()).toEqual([...botIds].sort());
    expect(await firestoreLeft(tenantId)).toEqual([]);
  });

  it("waits while logouts are pending and their deadline is ahead, touching nothing", async () => {
    const { tenantId, name, access } = await tenantToClose(1);
    await new AccountClosing(refs, { logoutWaitMs: 60 * 60_000 }).request(access, name, {
      actor: { kind: "user", id: "owner" },
      requestId: null,
    });
    const runner = new ClosingRunner({ db, media, cancelSubscription: recordingCancel().cancel, logger });
    expect(await ownStep(runner, tenantId)).toEqual({ kind: "advanced", phase: "await_logouts" });
    expect(await ownStep(runner, tenantId)).toMatchObject({ kind: "waiting", phase: "await_logouts" });
    expect((await tenantDeletionRef(db, tenantId).get()).data()?.phase).toBe("await_logouts");
    expect((await refs.tenant(tenantId).get()).exists).toBe(true);
    expect(await mediaLeft(tenantId)).toHaveLength(3);
  });

  it("retries a failed cancellation on the next run (the sweep) instead of skipping it", async () => {
    const { tenantId, name, subscriptionId, access } = await tenantToClose(1);
    await new AccountClosing(refs, { logoutWaitMs: 0 }).request(access, name, {
      actor: { kind: "user", id: "owner" },
      requestId: null,
    });
    const stripe = recordingCancel();
    stripe.failNext(1);
    const runner = new ClosingRunner({ db, media, cancelSubscription: stripe.cancel, logger });
    expect(await failedRun(runner, tenantId)).toMatchObject({ message: "Stripe answered 500" });
    const failed = (await tenantDeletionRef(db, tenantId).get()).data();
    expect(failed?.phase).toBe("cancel_subscription");
    expect(failed?.failures).toBeGreaterThanOrEqual(1);
    expect(failed?.lastError?.phase).toBe("cancel_subscription");
    // Nothing deleted while the subscription may still be billing.
    expect((await refs.tenant(tenantId).get()).exists).toBe(true);

    // The sweep (here with no staleness, to pick it at once) finds it and finishes it.
    await waitFor("the sweep to finish the closing", async () => {
      await runner.sweep({ staleMs: 0, onlyTenants: [tenantId] });
      return (await tenantDeletionRef(db, tenantId).get()).data()?.phase === "done" ? true : undefined;
    });
    expect(stripe.calls).toEqual([
      [tenantId, subscriptionId],
      [tenantId, subscriptionId],
    ]);
    expect((await tenantDeletionRef(db, tenantId).get()).data()?.phase).toBe("done");
    expect(await firestoreLeft(tenantId)).toEqual([]);
  });

  it("resumes a closing that failed halfway from the phase it was in, without repeating the ones done", async () => {
    const { tenantId, name, access } = await tenantToClose(1);
    await new AccountClosing(refs, { logoutWaitMs: 0 }).request(access, name, {
      actor: { kind: "user", id: "owner" },
      requestId: null,
    });
    const stripe = recordingCancel();
    // A bucket that does not exist: deleting media fails, as an outage of Cloud Storage would.
    const brokenMedia = new MediaStore(
      new Storage({ projectId: "local", apiEndpoint: requireEnv("STORAGE_EMULATOR_HOST") }).bucket(uniqueId("gone")),
    );
    const broken = new ClosingRunner({ db, media: brokenMedia, cancelSubscription: stripe.cancel, logger });
    expect(await failedRun(broken, tenantId)).toBeInstanceOf(Error);
    expect((await tenantDeletionRef(db, tenantId).get()).data()?.lastError?.phase).toBe("delete_media");

    const healthy = new ClosingRunner({ db, media, cancelSubscription: stripe.cancel, logger });
    await finish(healthy, tenantId);
    expect(stripe.calls).toHaveLength(1);
    expect(await mediaLeft(tenantId)).toEqual([]);
    expect(await firestoreLeft(tenantId)).toEqual([]);
  });

  it("is run by one runner at a time: a second one finds it claimed", async () => {
    const { tenantId, name, access } = await tenantToClose(1);
    await new AccountClosing(refs, { logoutWaitMs: 0 }).request(access, name, {
      actor: { kind: "user", id: "owner" },
      requestId: null,
    });
    let release: () => void = () => undefined;
    const cancelling = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => undefined;
    const hasStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const slow = new ClosingRunner({
      db,
      media,
      logger,
      cancelSubscription: async () => {
        started();
        await cancelling;
      },
    });
    const other = new ClosingRunner({ db, media, cancelSubscription: recordingCancel().cancel, logger });
    const running = waitFor("the slow runner to take the closing", async () => {
      const outcome = await slow.run(tenantId);
      return outcome.kind === "skipped" && outcome.reason === "claimed" ? undefined : outcome;
    });
    await hasStarted;
    expect(await other.step(tenantId)).toEqual({ kind: "skipped", reason: "claimed" });
    release();
    expect(await running).toEqual({ kind: "advanced", phase: "done" });
  });
});

describe("a closing tenant", () => {
  it("is refused to members and keys with tenant_closing, but for tenant:delete", async () => {
    const { tenantId, name, access } = await tenantToClose(0);
    await new AccountClosing(refs).request(access, name, { actor: { kind: "user", id: "owner" }, requestId: null });
    const service = new AccessService(refs, new AccessCache({ ttlMs: 0 }));
    await expect(service.require(access.principal, tenantId, "tenant:read")).rejects.toMatchObject({
      code: "tenant_closing",
    });
    await expect(service.require(access.principal, tenantId, "tenant:delete")).resolves.toMatchObject({ tenantId });
    const key = { kind: "apiKey" as const, tenantId, keyId: "k", scopes: ["admin" as const] };
    await expect(service.require(key, tenantId, "bots:read")).rejects.toMatchObject({ code: "tenant_closing" });
    const stranger = { kind: "user" as const, uid: uniqueId("stranger"), email: null };
    await expect(service.require(stranger, tenantId, "tenant:delete")).rejects.toMatchObject({ code: "not_found" });
  });
});
