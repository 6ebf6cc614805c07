import { type DocumentReference, FieldValue, type Firestore, type Transaction } from "firebase-admin/firestore";
import type { z } from "zod";
import { zodConverter } from "../firestore/converter.ts";
import { campaignPath } from "../firestore/paths.ts";
import { type CampaignCounts, COUNTER_SHARDS, counterShardSchema, noCounts, type RecipientStatus } from "./schema.ts";

const shardConverter = zodConverter(counterShardSchema);

function countersPath(tenantId: string, campaignId: string): string {
  return `${campaignPath(tenantId, campaignId)}/counters`;
}

/** Recipients per state: the plan's counts plus every shard's moves. */
export async function readCounts(db: Firestore, tenantId: string, campaignId: string): Promise<CampaignCounts> {
  const shards = await db.collection(countersPath(tenantId, campaignId)).withConverter(shardConverter).get();
  const counts: CampaignCounts = { ...noCounts };
  for (const shard of shards.docs) {
    for (const [state, value] of Object.entries(shard.data()) as Array<[keyof CampaignCounts, number]>) {
      counts[state] += value;
    }
  }
  return counts;
}

/** The shard the planning writes its counts to (one write, the baseline the sends move from). */
export function planShard(
  db: Firestore,
  tenantId: string,
  campaignId: string,
): DocumentReference<z.output<typeof counterShardSchema>> {
  return db.doc(`${countersPath(tenantId, campaignId)}/plan`).withConverter(shardConverter);
}

/**
 * Moves one recipient from one state to another in a random shard, inside the caller's
 * transaction: a busy campaign's sends spread over COUNTER_SHARDS documents instead of one.
 */
export function moveCount(
  tx: Transaction,
  db: Firestore,
  at: { tenantId: string; campaignId: string },
  from: RecipientStatus,
  to: RecipientStatus,
  random: () => number = Math.random,
): void {
  if (from === to) return;
  const shard = Math.min(COUNTER_SHARDS - 1, Math.floor(random() * COUNTER_SHARDS));
  tx.set(
    db.doc(`${countersPath(at.tenantId, at.campaignId)}/s${shard}`),
    { [from]: FieldValue.increment(-1), [to]: FieldValue.increment(1) },
    { merge: true },
  );
}
