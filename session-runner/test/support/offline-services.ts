import type { Firestore } from "@google-cloud/firestore";
import { Storage } from "@google-cloud/storage";
import { MediaStore } from "@whatsdex/core";
import { testBucket } from "@whatsdex/core/testing";
import type { CommandServices } from "../../src/commands/command.ts";
import { WikiUnavailableError } from "../../src/search/wiki-provider.ts";
import { MemoryBans, MemoryChatMemory, MemoryGroupSettings } from "./memory-stores.ts";

const offline = (what: string) => async (): Promise<never> => {
  throw new Error(`no ${what} here`);
};

/**
 * Services for a command engine with no socket behind it (unit tests, benchmarks): the bot's stores
 * in memory, media in the tests' bucket (outside Vitest, one nothing answers at), and anything that
 * would reach WhatsApp fails loudly.
 */
export function offlineServices(db: Firestore): Omit<CommandServices, "stats"> {
  const bot = { tenantId: "offline", botId: "offline" };
  return {
    bot,
    media: new MediaStore(
      process.env.STORAGE_EMULATOR_HOST
        ? testBucket()
        : new Storage({ projectId: "offline", apiEndpoint: "http://127.0.0.1:9" }).bucket("offline"),
    ),
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
    groupSettings: new MemoryGroupSettings(),
    bans: new MemoryBans(),
    aiMemory: new MemoryChatMemory(),
    wiki: {
      lookup: async () => {
        throw new WikiUnavailableError("no encyclopedia here");
      },
    },
    updateSettings: offline("settings changes"),
    download: offline("media"),
  };
}
