import type { Firestore } from "@google-cloud/firestore";
import { MediaStore, type WriteFence } from "@whatsdex/core";
import { ChatMemory } from "../../src/ai/chat-memory.ts";
import { BanList } from "../../src/commands/bans/ban-list.ts";
import type { CommandServices } from "../../src/commands/command.ts";
import { GroupSettingsStore } from "../../src/commands/group/group-settings.ts";
import { WikiUnavailableError } from "../../src/search/wiki-provider.ts";

/** A fence no write passes: engines built on these services never write. */
const readOnly: WriteFence = {
  assertHeld: async () => {
    throw new Error("this engine writes nothing");
  },
};

const offline = (what: string) => async (): Promise<never> => {
  throw new Error(`no ${what} here`);
};

/**
 * Services for a command engine with no socket behind it (unit tests, benchmarks): reads work
 * against `db`, anything that would reach WhatsApp or write fails loudly.
 */
export function offlineServices(db: Firestore): Omit<CommandServices, "stats"> {
  const bot = { tenantId: "offline", botId: "offline" };
  return {
    bot,
    media: new MediaStore(db),
    queues: {},
    group: {
      metadata: offline("group metadata"),
      participants: offline("group changes"),
      inviteCode: offline("invite codes"),
      revokeInvite: offline("invite codes"),
      setSubject: offline("group changes"),
      setDescription: offline("group changes"),
      deleteMessage: offline("deletes"),
    },
    groupSettings: new GroupSettingsStore({ db, bot, fence: readOnly }),
    bans: new BanList(db, bot, readOnly),
    aiMemory: new ChatMemory(db),
    wiki: {
      lookup: async () => {
        throw new WikiUnavailableError("no encyclopedia here");
      },
    },
    updateSettings: offline("settings changes"),
    download: offline("media"),
  };
}
