import { createHash } from "node:crypto";
import { FieldPath, type Firestore, Timestamp } from "firebase-admin/firestore";
import { type ContactDoc, contactDocSchema } from "../contacts/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import {
  campaignPath,
  campaignRecipientPath,
  tenantContactPath,
  tenantContactsCollectionPath,
} from "../firestore/paths.ts";
import {
  type Audience,
  type CampaignCounts,
  campaignDocSchema,
  noCounts,
  type RecipientDoc,
  recipientStatusSchema,
} from "./schema.ts";

const campaignConverter = zodConverter(campaignDocSchema);

/** Contacts read (and recipients written) per step: one page of the audience, one cursor update. */
export const PLANNING_PAGE = 500;

/** The order recipients are sent in: a hash, so neither names nor numbers decide who goes first. */
export function recipientOrder(campaignId: string, personId: string): string {
  return createHash("sha256").update(`${campaignId}\u0000${personId}`).digest("hex").slice(0, 16);
}

export interface PlanningResult {
  recipients: number;
  counts: CampaignCounts;
  /** Pages read in this run (a resumed planning reads only what is left). */
  pages: number;
}

/**
 * Writes a campaign's recipients from its audience with BulkWriter, one document per person
 * (`recipients/{personId}`, so writing one twice is harmless), a page at a time, recording after
 * each page how far it got: a planning interrupted by a crash or a timeout resumes after the last
 * page it finished. Opted-out contacts are written as skipped, so the report says why they got
 * nothing. The counts are read back from the recipients at the end, so a resumed run counts right.
 */
export async function planRecipients(
  db: Firestore,
  tenantId: string,
  campaignId: string,
  options: { page?: number; now?: () => number } = {},
): Promise<PlanningResult> {
  const page = options.page ?? PLANNING_PAGE;
  const now = options.now ?? Date.now;
  const campaignRef = db.doc(campaignPath(tenantId, campaignId)).withConverter(campaignConverter);
  const campaign = (await campaignRef.get()).data();
  if (!campaign) throw new Error(`campaign ${campaignId} is gone`);
  let cursor = campaign.planning.state === "done" ? null : campaign.planning.cursor;
  let pages = 0;
  const seen = new Set<string>();
  if (campaign.planning.state !== "done") {
    const writer = db.bulkWriter();
    writer.onWriteError((error) => error.failedAttempts < 5);
    try {
      for (;;) {
        const { contacts, last, more } = await audiencePage(db, tenantId, campaign.audience, cursor, page);
        const at = Timestamp.fromMillis(now());
        for (const contact of contacts) {
          const recipient = recipientOf(campaignId, contact, seen, at);
          if (recipient) void writer.set(db.doc(campaignRecipientPath(tenantId, campaignId, contact.id)), recipient);
        }
        await writer.flush();
        if (last === null) break;
        cursor = last;
        pages++;
        await campaignRef.update({ "planning.cursor": cursor, "planning.state": "in_progress" });
        if (!more) break;
      }
    } finally {
      await writer.close();
    }
  }
  const counts = await countRecipients(db, tenantId, campaignId);
  await campaignRef.update({
    "planning.state": "done",
    "planning.cursor": cursor,
    "planning.recipients": counts.total,
    "planning.addressed": counts.pending,
    updatedAt: Timestamp.fromMillis(now()),
  });
  return { recipients: counts.total, counts, pages };
}

interface AudienceContact {
  id: string;
  /** Null for a person listed explicitly who is not a contact. */
  contact: ContactDoc | null;
}

/** One page of the audience: the contacts in it, the last id read (the next page starts after it), whether more may follow. */
async function audiencePage(
  db: Firestore,
  tenantId: string,
  audience: Audience,
  after: string | null,
  limit: number,
): Promise<{ contacts: AudienceContact[]; last: string | null; more: boolean }> {
  if (audience.kind === "list") {
    const ids = [...new Set(audience.personIds)].sort();
    const next = ids.filter((id) => after === null || id > after).slice(0, limit);
    if (next.length === 0) return { contacts: [], last: null, more: false };
    // getAll loses the converter's type: each document is parsed here instead.
    const snapshots = await db.getAll(...next.map((id) => db.doc(tenantContactPath(tenantId, id))));
    const contacts = snapshots.map((snapshot) => {
      const data = snapshot.data();
      return { id: snapshot.id, contact: data === undefined ? null : (contactDocSchema.safeParse(data).data ?? null) };
    });
    return { contacts, last: next[next.length - 1] ?? null, more: next.length === limit };
  }
  // Read raw and parsed one by one: a malformed contact is skipped as invalid, never the whole planning.
  let query = db
    .collection(tenantContactsCollectionPath(tenantId))
    .where("tags", "array-contains-any", audience.tags)
    .orderBy(FieldPath.documentId())
    .limit(limit);
  if (after !== null) query = query.startAfter(after);
  const { docs } = await query.get();
  // `all`: Firestore matches one tag per query; the rest are checked here (the cursor still moves past every doc read).
  const contacts = docs
    .map((doc) => ({ id: doc.id, contact: contactDocSchema.safeParse(doc.data()).data ?? null }))
    .filter(({ contact }) => audience.match === "any" || audience.tags.every((tag) => contact?.tags.includes(tag)));
  return { contacts, last: docs[docs.length - 1]?.id ?? null, more: docs.length === limit };
}

function recipientOf(
  campaignId: string,
  { id, contact }: AudienceContact,
  seen: Set<string>,
  at: Timestamp,
): RecipientDoc | null {
  const base = {
    lid: contact?.lid ?? null,
    pn: contact?.pn ?? null,
    name: contact?.name ?? null,
    botId: null,
    outboxId: null,
    error: null,
    attempts: 0,
    order: recipientOrder(campaignId, id),
    createdAt: at,
    updatedAt: at,
  };
  if (!contact) return { ...base, status: "skipped", skipReason: "invalid" };
  // One person reachable as two contacts (a number and a LID not yet linked) gets one message.
  const keys = [contact.lid, contact.pn].filter((key): key is string => key !== null);
  if (keys.some((key) => seen.has(key))) return { ...base, status: "skipped", skipReason: "duplicate" };
  for (const key of keys) seen.add(key);
  if (contact.optOut) return { ...base, status: "skipped", skipReason: "opted_out" };
  return { ...base, status: "pending", skipReason: null };
}

/** Recipients per state, by aggregation queries (one read per 1,000 recipients counted). */
export async function countRecipients(db: Firestore, tenantId: string, campaignId: string): Promise<CampaignCounts> {
  const recipients = db.collection(`${campaignPath(tenantId, campaignId)}/recipients`);
  const counts: CampaignCounts = { ...noCounts };
  await Promise.all(
    recipientStatusSchema.options.map(async (status) => {
      counts[status] = (await recipients.where("status", "==", status).count().get()).data().count;
    }),
  );
  counts.total = counts.pending + counts.sending + counts.sent + counts.failed + counts.skipped;
  return counts;
}
