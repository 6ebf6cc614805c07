import { areJidsSameUser, type GroupMetadata, type GroupParticipant, type ParticipantAction } from "baileys";
import { LRUCache } from "lru-cache";
import { lazyMax } from "./lazy-lru.ts";

export interface GroupCacheOptions {
  /** Asks WhatsApp (the bot's current socket). */
  fetch: (jid: string) => Promise<GroupMetadata>;
  max: number;
  /** Metadata is also kept current by group events; the TTL bounds what a missed event can cost. */
  ttlMs: number;
}

export interface ParticipantsUpdate {
  id: string;
  participants: GroupParticipant[];
  action: ParticipantAction;
}

const sameParticipant = (a: GroupParticipant, b: GroupParticipant) =>
  areJidsSameUser(a.id, b.id) ||
  Boolean(a.phoneNumber && b.phoneNumber && areJidsSameUser(a.phoneNumber, b.phoneNumber)) ||
  Boolean(a.lid && b.lid && areJidsSameUser(a.lid, b.lid));

/**
 * One bot's group metadata. WhatsApp rate-limits metadata queries (`rate-overlimit`), and Baileys
 * queries before every group send unless `cachedGroupMetadata` answers, so every reader — Baileys'
 * send path and the command engine's admin checks — goes through here: concurrent misses share one
 * query, and group events patch the cached copy instead of forcing a refetch.
 */
export class GroupCache {
  readonly #options: GroupCacheOptions;
  readonly #cache: LRUCache<string, GroupMetadata>;
  readonly #inflight = new Map<string, Promise<GroupMetadata>>();
  #queries = 0;

  constructor(options: GroupCacheOptions) {
    this.#options = options;
    this.#cache = new LRUCache<string, GroupMetadata>({ ...lazyMax(options.max), ttl: options.ttlMs });
  }

  /** How many times WhatsApp was asked (the number that must stay low). */
  get queries(): number {
    return this.#queries;
  }

  cached(jid: string): GroupMetadata | undefined {
    return this.#cache.get(jid);
  }

  async get(jid: string): Promise<GroupMetadata> {
    const cached = this.#cache.get(jid);
    if (cached) return cached;
    const pending = this.#inflight.get(jid);
    if (pending) return pending;
    this.#queries += 1;
    const query = this.#options
      .fetch(jid)
      .then((metadata) => {
        this.#cache.set(jid, metadata);
        return metadata;
      })
      .finally(() => this.#inflight.delete(jid));
    this.#inflight.set(jid, query);
    return query;
  }

  /** `groups.upsert`: full metadata of groups the bot joined or was told about. */
  upsert(groups: readonly GroupMetadata[]): void {
    for (const group of groups) this.#cache.set(group.id, group);
  }

  /** `groups.update`: changed fields of a group (subject, description, announce, …). */
  update(updates: ReadonlyArray<Partial<GroupMetadata>>): void {
    for (const update of updates) {
      if (!update.id) continue;
      const current = this.#cache.get(update.id);
      if (current) this.#cache.set(update.id, { ...current, ...update, id: current.id });
    }
  }

  /** `group-participants.update`: applied to the cached copy; an action we cannot apply drops it. */
  participants(update: ParticipantsUpdate): void {
    const current = this.#cache.get(update.id);
    if (!current) return;
    const changed = (participant: GroupParticipant) => update.participants.some((p) => sameParticipant(p, participant));
    let participants: GroupParticipant[];
    switch (update.action) {
      case "add":
        participants = [
          ...current.participants.filter((p) => !changed(p)),
          ...update.participants.map((p) => ({ ...p, admin: null })),
        ];
        break;
      case "remove":
        participants = current.participants.filter((p) => !changed(p));
        break;
      case "promote":
      case "demote": {
        const admin = update.action === "promote" ? ("admin" as const) : null;
        participants = current.participants.map((p) => (changed(p) ? { ...p, admin } : p));
        break;
      }
      default:
        // `modify` (a participant's number or LID changed): refetch on next use.
        this.#cache.delete(update.id);
        return;
    }
    this.#cache.set(update.id, { ...current, participants, size: participants.length });
  }

  invalidate(jid: string): void {
    this.#cache.delete(jid);
  }
}
