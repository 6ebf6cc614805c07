import { type BotRef, groupSettingsPath, type WriteFence, zodConverter } from "@whatsdex/core";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { lazyMax } from "./lazy-lru.ts";

export const WELCOME_TEMPLATE_MAX = 1_000;

/** `tenants/{t}/bots/{b}/groups/{group digits}`: what group admins switched on for this bot in their group. */
export const groupSettingsSchema = z.object({
  welcome: z.object({
    enabled: z.boolean(),
    /** `{user}` (a mention) and `{group}` (its name) are filled in; null = the catalog's greeting. */
    template: z.string().max(WELCOME_TEMPLATE_MAX).nullable(),
  }),
  antilink: z.object({ enabled: z.boolean(), kickAfter: z.number().int().min(1).max(10) }),
  /** Antilink warnings so far, by person id (`lid:…` / `pn:…`); reset when the person is removed. */
  warnings: z.record(z.string(), z.number().int().min(0)),
});
export type GroupSettings = z.output<typeof groupSettingsSchema>;

const converter = zodConverter(groupSettingsSchema);

export const defaultGroupSettings: GroupSettings = {
  welcome: { enabled: false, template: null },
  antilink: { enabled: false, kickAfter: 3 },
  warnings: {},
};

export interface GroupSettingsStoreOptions {
  db: Firestore;
  bot: BotRef;
  fence: WriteFence;
  /** Groups kept in memory; each group message reads its settings (antilink), so they must not hit Firestore. */
  max?: number;
}

/**
 * Per-group settings of one bot, read once per group and kept in memory by the bot's owner
 * instance; changes are fenced transactions (only the lease holder writes), and the cache holds
 * what was committed.
 */
export class GroupSettingsStore {
  readonly #options: GroupSettingsStoreOptions;
  readonly #cache: LRUCache<string, GroupSettings>;
  readonly #inflight = new Map<string, Promise<GroupSettings>>();

  constructor(options: GroupSettingsStoreOptions) {
    this.#options = options;
    this.#cache = new LRUCache<string, GroupSettings>(lazyMax(options.max ?? 500));
  }

  /** Writes go through the plain reference (they add `updatedAt`, which the schema does not keep). */
  #ref(groupJid: string) {
    const { db, bot } = this.#options;
    return db.doc(groupSettingsPath(bot.tenantId, bot.botId, groupJid));
  }

  /** Reads are parsed: a malformed document fails naming its path and fields. */
  #typed(groupJid: string) {
    return this.#ref(groupJid).withConverter(converter);
  }

  async get(groupJid: string): Promise<GroupSettings> {
    const cached = this.#cache.get(groupJid);
    if (cached) return cached;
    const pending = this.#inflight.get(groupJid);
    if (pending) return pending;
    const read = this.#typed(groupJid)
      .get()
      .then((snapshot) => {
        const settings = snapshot.data() ?? defaultGroupSettings;
        this.#cache.set(groupJid, settings);
        return settings;
      })
      .finally(() => this.#inflight.delete(groupJid));
    this.#inflight.set(groupJid, read);
    return read;
  }

  /** Applies `change` to the stored settings in a fenced transaction; returns what was committed. */
  async update(groupJid: string, change: (current: GroupSettings) => GroupSettings): Promise<GroupSettings> {
    const { db, fence } = this.#options;
    const ref = this.#ref(groupJid);
    const next = await db.runTransaction(async (tx) => {
      await fence.assertHeld(tx);
      const current = (await tx.get(this.#typed(groupJid))).data() ?? defaultGroupSettings;
      const changed = groupSettingsSchema.parse(change(current));
      tx.set(ref, { ...changed, updatedAt: Timestamp.now() });
      return changed;
    });
    this.#cache.set(groupJid, next);
    return next;
  }
}
