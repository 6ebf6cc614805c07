import {
  addTransactionCapability,
  Curve,
  generateSignalPubKey,
  initAuthCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from "baileys";
import { makeLibSignalRepository } from "baileys/lib/Signal/libsignal.js";
import { pino } from "pino";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import type { FirestoreAuthState } from "../src/bot/auth-state/firestore-auth-state.ts";
import { decodeValue, encodeValue } from "../src/bot/auth-state/values.ts";
import { authStateFixture } from "../test/support/auth-state-fixture.ts";

const logger = pino({ level: "silent" });
const ALICE = "6281111111111@s.whatsapp.net";
const BOB = "6282222222222@s.whatsapp.net";

/**
 * The baseline: the same Signal traffic over a Map holding the same serialised values, so the ratio
 * is what Firestore, the fence and encryption add.
 */
function memoryKeyStore(): SignalKeyStore {
  const data = new Map<string, Buffer>();
  return {
    get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const raw = data.get(`${type}/${id}`);
        if (raw !== undefined) out[id] = decodeValue(type, raw);
      }
      return out;
    },
    set(set: SignalDataSet) {
      for (const [type, values] of Object.entries(set)) {
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value === null) data.delete(`${type}/${id}`);
          else data.set(`${type}/${id}`, encodeValue(value));
        }
      }
    },
  };
}

type Party = { creds: ReturnType<typeof initAuthCreds>; keys: SignalKeyStore };

/** Two parties with a session; each call sends one message each way (4 Signal operations). */
async function conversation(alice: Party, bob: Party) {
  const repo = (party: Party) =>
    makeLibSignalRepository(
      {
        creds: party.creds,
        keys: addTransactionCapability(party.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 10 }),
      },
      logger,
    );
  const [a, b] = [repo(alice), repo(bob)];
  const preKey = Curve.generateKeyPair();
  await bob.keys.set({ "pre-key": { "1": preKey } });
  await a.injectE2ESession({
    jid: BOB,
    session: {
      registrationId: bob.creds.registrationId,
      identityKey: generateSignalPubKey(bob.creds.signedIdentityKey.public),
      signedPreKey: {
        keyId: bob.creds.signedPreKey.keyId,
        publicKey: generateSignalPubKey(bob.creds.signedPreKey.keyPair.public),
        signature: bob.creds.signedPreKey.signature,
      },
      preKey: { keyId: 1, publicKey: generateSignalPubKey(preKey.public) },
    },
  });
  return async () => {
    const out = await a.encryptMessage({ jid: BOB, data: Buffer.from("ping") });
    await b.decryptMessage({ jid: ALICE, type: out.type, ciphertext: out.ciphertext });
    const back = await b.encryptMessage({ jid: ALICE, data: Buffer.from("pong") });
    await a.decryptMessage({ jid: BOB, type: back.type, ciphertext: back.ciphertext });
  };
}

/**
 * A chat between two bots through Baileys' libsignal: over our Firestore auth state (fenced
 * commits, encryption, cache) against the same traffic over an in-memory Map.
 */
export const suite: BenchSuite = {
  name: "auth-state",
  description: "one message each way per iteration (4 Signal operations), Firestore emulator",
  baseline: "in-memory key store",
  needs: ["firestore"],
  mode: "interleaved",
  timeMs: 4_000,
  async setup() {
    const [aliceFixture, bobFixture] = [await authStateFixture(), await authStateFixture()];
    const aliceAuth: FirestoreAuthState = await aliceFixture.open(await aliceFixture.lease());
    const bobAuth: FirestoreAuthState = await bobFixture.open(await bobFixture.lease());
    const stored = await conversation(aliceAuth.state, bobAuth.state);
    const inMemory = await conversation(
      { creds: initAuthCreds(), keys: memoryKeyStore() },
      { creds: initAuthCreds(), keys: memoryKeyStore() },
    );
    return {
      tasks: { "in-memory key store": inMemory, "Firestore auth state": stored },
      facts: () => {
        const sets = aliceAuth.stats.sets + bobAuth.stats.sets;
        const commits = aliceAuth.stats.commits + bobAuth.stats.commits;
        const hits = aliceAuth.stats.cacheHits + bobAuth.stats.cacheHits;
        const misses = aliceAuth.stats.cacheMisses + bobAuth.stats.cacheMisses;
        return {
          "keys.set calls": sets,
          "commits per keys.set": commits / sets,
          "cache hit rate": hits / (hits + misses),
        };
      },
      async teardown() {
        await Promise.all([aliceFixture.firebase.close(), bobFixture.firebase.close()]);
      },
    };
  },
};
