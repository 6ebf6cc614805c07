import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { requireEnv } from "@whatsdex/core/testing";
import { addTransactionCapability, Curve, generateSignalPubKey } from "baileys";
import { makeLibSignalRepository } from "baileys/lib/Signal/libsignal.js";
import { pino } from "pino";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { FirestoreAuthState } from "../src/bot/auth-state/firestore-auth-state.ts";
import { authStateFixture } from "./support/auth-state-fixture.ts";

/**
 * Baileys' own Signal implementation (libsignal) between two bots whose keys live in the Firestore
 * emulator through our auth state: what a real chat does to the store, without WhatsApp's servers.
 */
const logger = pino({ level: "silent" });
const exec = promisify(execFile);
const ALICE = "6281111111111@s.whatsapp.net";
const BOB = "6282222222222@s.whatsapp.net";

const fixtures: Array<Awaited<ReturnType<typeof authStateFixture>>> = [];
afterAll(async () => {
  for (const f of fixtures) await f.firebase.close();
});

/** The repository the socket builds: our store, wrapped in Baileys' own transaction layer. */
function repository(auth: FirestoreAuthState) {
  const keys = addTransactionCapability(auth.state.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 10 });
  return makeLibSignalRepository({ creds: auth.state.creds, keys }, logger);
}

/** Bob's pre-key bundle, as WhatsApp's server would hand it to Alice. */
async function publishBundle(bob: FirestoreAuthState) {
  const preKey = Curve.generateKeyPair();
  await bob.state.keys.set({ "pre-key": { "1": preKey } });
  const { creds } = bob.state;
  return {
    registrationId: creds.registrationId,
    identityKey: generateSignalPubKey(creds.signedIdentityKey.public),
    signedPreKey: {
      keyId: creds.signedPreKey.keyId,
      publicKey: generateSignalPubKey(creds.signedPreKey.keyPair.public),
      signature: creds.signedPreKey.signature,
    },
    preKey: { keyId: 1, publicKey: generateSignalPubKey(preKey.public) },
  };
}

async function twoBots() {
  const alice = await authStateFixture();
  const bob = await authStateFixture();
  fixtures.push(alice, bob);
  const aliceLease = await alice.lease();
  const bobLease = await bob.lease();
  const aliceAuth = await alice.open(aliceLease);
  const bobAuth = await bob.open(bobLease);
  await Promise.all([aliceAuth.saveCreds(), bobAuth.saveCreds()]);
  return { alice, bob, aliceLease, bobLease, aliceAuth, bobAuth };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

describe("Signal sessions over the Firestore auth state", () => {
  it("establishes a session, exchanges messages, and keeps decrypting after a reload", async () => {
    const { alice, bob, aliceLease, bobLease, aliceAuth, bobAuth } = await twoBots();
    const aliceRepo = repository(aliceAuth);
    await aliceRepo.injectE2ESession({ jid: BOB, session: await publishBundle(bobAuth) });

    const first = await aliceRepo.encryptMessage({ jid: BOB, data: Buffer.from("hello bob") });
    expect(first.type).toBe("pkmsg");
    const bobRepo = repository(bobAuth);
    expect(text(await bobRepo.decryptMessage({ jid: ALICE, type: first.type, ciphertext: first.ciphertext }))).toBe(
      "hello bob",
    );
    // The one-time pre-key is consumed and really deleted.
    expect(await bobAuth.state.keys.get("pre-key", ["1"])).toEqual({});

    const reply = await bobRepo.encryptMessage({ jid: ALICE, data: Buffer.from("hi alice") });
    expect(text(await aliceRepo.decryptMessage({ jid: BOB, type: reply.type, ciphertext: reply.ciphertext }))).toBe(
      "hi alice",
    );

    // Both bots come back from Firestore alone (new stores, empty caches) and carry on.
    const aliceAgain = repository(await alice.open(aliceLease));
    const bobAgain = repository(await bob.open(bobLease));
    const later = await aliceAgain.encryptMessage({ jid: BOB, data: Buffer.from("still there?") });
    expect(later.type).toBe("msg");
    expect(text(await bobAgain.decryptMessage({ jid: ALICE, type: later.type, ciphertext: later.ciphertext }))).toBe(
      "still there?",
    );

    // A replayed message is refused: its message key was used and is gone. (libsignal reports it on
    // console.error itself; here that is the expected outcome, not a stray error.)
    const libsignalLog = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await expect(
      bobAgain.decryptMessage({ jid: ALICE, type: later.type, ciphertext: later.ciphertext }),
    ).rejects.toThrow(/No matching sessions/);
    expect(libsignalLog.mock.calls.map((call) => call.map(String).join(" ")).join("\n")).toMatch(/Key used already/);
  });

  it("loses nothing when a write fails halfway: the message decrypts once the session is back", async () => {
    const { bob, bobLease, aliceAuth, bobAuth } = await twoBots();
    const aliceRepo = repository(aliceAuth);
    await aliceRepo.injectE2ESession({ jid: BOB, session: await publishBundle(bobAuth) });
    const first = await aliceRepo.encryptMessage({ jid: BOB, data: Buffer.from("one") });
    await repository(bobAuth).decryptMessage({ jid: ALICE, type: first.type, ciphertext: first.ciphertext });
    const second = await aliceRepo.encryptMessage({ jid: BOB, data: Buffer.from("two") });

    // Bob's runner loses its lease while decrypting: the ratchet update is refused, not half-written.
    await bob.leases.release(bobLease);
    const takeover = await bob.lease("runner-b");
    await expect(
      repository(bobAuth).decryptMessage({ jid: ALICE, type: second.type, ciphertext: second.ciphertext }),
    ).rejects.toThrow();

    // The new owner finds the state as of the last commit, so the message is still decryptable.
    const recovered = repository(await bob.open(takeover));
    expect(text(await recovered.decryptMessage({ jid: ALICE, type: second.type, ciphertext: second.ciphertext }))).toBe(
      "two",
    );
  });

  it("decrypts in a fresh process that has only Firestore and the key", async () => {
    const { bob, bobLease, aliceAuth, bobAuth } = await twoBots();
    const aliceRepo = repository(aliceAuth);
    await aliceRepo.injectE2ESession({ jid: BOB, session: await publishBundle(bobAuth) });
    const first = await aliceRepo.encryptMessage({ jid: BOB, data: Buffer.from("first") });
    await repository(bobAuth).decryptMessage({ jid: ALICE, type: first.type, ciphertext: first.ciphertext });
    const second = await aliceRepo.encryptMessage({ jid: BOB, data: Buffer.from("from another process") });

    const { stdout } = await exec(
      process.execPath,
      [
        "--conditions=@whatsdex/source",
        fileURLToPath(new URL("./support/decrypt-in-child.ts", import.meta.url)),
        JSON.stringify({
          projectId: requireEnv("GCLOUD_PROJECT"),
          collectionPath: bob.collectionPath,
          lease: { ...bob.bot, owner: bobLease.owner, generation: bobLease.generation },
          keyBase64: bob.keyBytes.toString("base64"),
          from: ALICE,
          type: second.type,
          ciphertextBase64: Buffer.from(second.ciphertext).toString("base64"),
        }),
      ],
      { timeout: 60_000 },
    );
    expect(Buffer.from(stdout, "base64").toString("utf8")).toBe("from another process");
  });
});
