import type { BotRef } from "@whatsdex/core";
import { defaultGroupSettings, type GroupSettings } from "../../src/bot/group-settings.ts";
import type { Bans, ChatMemoryPort, GroupSettingsStorePort } from "../../src/commands/command.ts";
import { idsOf, type Person } from "../../src/identity/person.ts";

/**
 * The command services' stores in memory: what an engine needs when no Firestore is behind it
 * (unit tests, benchmarks). Same ports as the Firestore stores, same rules (a ban on any of a
 * person's ids holds), nothing persisted.
 */
export class MemoryBans implements Bans {
  readonly #banned = new Set<string>();

  has(person: Pick<Person, "lid" | "pn" | "id">): boolean {
    return idsOf(person).some((id) => this.#banned.has(id));
  }

  async ban(person: Person, _by: string): Promise<boolean> {
    if (this.has(person)) return false;
    for (const id of idsOf(person)) this.#banned.add(id);
    return true;
  }

  async unban(person: Person, _by: string): Promise<boolean> {
    if (!this.has(person)) return false;
    for (const id of idsOf(person)) this.#banned.delete(id);
    return true;
  }
}

export class MemoryGroupSettings implements GroupSettingsStorePort {
  readonly #groups = new Map<string, GroupSettings>();

  async get(groupJid: string): Promise<GroupSettings> {
    return this.#groups.get(groupJid) ?? defaultGroupSettings;
  }

  async update(groupJid: string, change: (current: GroupSettings) => GroupSettings): Promise<GroupSettings> {
    const next = change(await this.get(groupJid));
    this.#groups.set(groupJid, next);
    return next;
  }
}

export class MemoryChatMemory implements ChatMemoryPort {
  readonly #chats = new Set<string>();

  remember(bot: BotRef, chat: string): void {
    this.#chats.add(`${bot.tenantId}/${bot.botId}/${chat}`);
  }

  async clear(bot: BotRef, chat: string): Promise<boolean> {
    return this.#chats.delete(`${bot.tenantId}/${bot.botId}/${chat}`);
  }
}
