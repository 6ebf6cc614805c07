/**
 * Run as its own process by signal-session.test.ts: opens a bot's auth state from Firestore with
 * nothing in memory but what is passed here, and decrypts one message with Baileys' libsignal.
 * Prints the plaintext (base64) on stdout.
 */

import { createFirebase, createKeyring, LeaseStore, leaseFence } from "@whatsdex/core";
import { addTransactionCapability } from "baileys";
import { makeLibSignalRepository } from "baileys/lib/Signal/libsignal.js";
import { pino } from "pino";
import { z } from "zod";
import { loadFirestoreAuthState } from "../../src/bot/auth-state/firestore-auth-state.ts";

const input = z
  .object({
    projectId: z.string(),
    collectionPath: z.string(),
    lease: z.object({ tenantId: z.string(), botId: z.string(), owner: z.string(), generation: z.number() }),
    keyBase64: z.string(),
    from: z.string(),
    type: z.enum(["pkmsg", "msg"]),
    ciphertextBase64: z.string(),
  })
  .parse(JSON.parse(process.argv[2] ?? "{}"));

const firebase = createFirebase({ projectId: input.projectId, name: "child" });
const leases = new LeaseStore(firebase.firestore, { ttlMs: 60_000 });
const lease = { ...input.lease, expiresAt: new Date(Date.now() + 60_000) };
const auth = await loadFirestoreAuthState({
  db: firebase.firestore,
  collectionPath: input.collectionPath,
  keyring: createKeyring(new Map([["k1", Buffer.from(input.keyBase64, "base64")]]), "k1"),
  fence: leaseFence(leases, lease),
});
const logger = pino({ level: "silent" });
const keys = addTransactionCapability(auth.state.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 10 });
const repository = makeLibSignalRepository({ creds: auth.state.creds, keys }, logger);
const plaintext = await repository.decryptMessage({
  jid: input.from,
  type: input.type,
  ciphertext: Buffer.from(input.ciphertextBase64, "base64"),
});
process.stdout.write(Buffer.from(plaintext).toString("base64"));
await firebase.close();
