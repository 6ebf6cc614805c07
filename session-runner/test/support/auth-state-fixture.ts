import { randomBytes } from "node:crypto";
import {
  authStateCollectionPath,
  createKeyring,
  type HeldLease,
  type Keyring,
  LeaseStore,
  leaseFence,
} from "@whatsdex/core";
import { testFirebase, uniqueId } from "@whatsdex/core/testing";
import { type FirestoreAuthState, loadFirestoreAuthState } from "../../src/bot/auth-state/firestore-auth-state.ts";

/** A bot's auth state in the Firestore emulator, owned through a real lease. */
export async function authStateFixture() {
  const firebase = testFirebase();
  const db = firebase.firestore;
  const bot = { tenantId: uniqueId("tenant"), botId: uniqueId("bot") };
  const collectionPath = authStateCollectionPath(bot.tenantId, bot.botId);
  const leases = new LeaseStore(db, { ttlMs: 60_000 });
  const keyBytes = randomBytes(32);
  const keyring: Keyring = createKeyring(new Map([["k1", keyBytes]]), "k1");

  async function open(lease: HeldLease, options: { keyring?: Keyring } = {}): Promise<FirestoreAuthState> {
    return loadFirestoreAuthState({
      db,
      collectionPath,
      keyring: options.keyring ?? keyring,
      fence: leaseFence(leases, lease),
    });
  }

  async function lease(owner = "runner-a"): Promise<HeldLease> {
    const held = await leases.acquire(bot, owner);
    if (!held) throw new Error(`${owner} could not take the lease`);
    return held;
  }

  return { firebase, db, bot, collectionPath, leases, keyring, keyBytes, open, lease };
}
