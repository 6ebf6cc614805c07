import { authStateCollectionPath, type BotRef, type HeldLease, OutboxService, type WriteFence } from "@whatsdex/core";
import type { Firestore } from "firebase-admin/firestore";
import type { Logger } from "pino";
import { clearFirestoreAuthState } from "../bot/auth-state/firestore-auth-state.ts";
import { CommandExecutor } from "../bot/outbox/command-executor.ts";
import { OutboxConsumer } from "../bot/outbox/outbox-consumer.ts";
import { SendExecutor } from "../bot/outbox/send-executor.ts";
import { StatusWriter } from "../bot/session/status-writer.ts";
import { platformMessageId } from "../transport/platform-message-id.ts";

export interface StoppedBot {
  db: Firestore;
  bot: BotRef;
  lease: HeldLease;
  fence: WriteFence;
  logger: Logger;
}

/**
 * Settles the outbox of a bot that should not run and that nobody holds (a logout queued while no
 * runner had it), under a lease the caller took briefly: a disconnect records the state, a logout
 * deletes the credentials (with no socket there is nothing to tell WhatsApp, and the device is
 * useless without them), and unsent messages fail as `bot_stopped`. The same consumer and
 * executors as a running bot, with a session that is never open.
 */
export async function settleStoppedBot({ db, bot, lease, fence, logger }: StoppedBot): Promise<void> {
  const outbox = new OutboxService(db, { newMessageId: platformMessageId, deadlineMs: 60_000 });
  const status = new StatusWriter(db, bot, fence);
  const commands = new CommandExecutor({
    outbox,
    lease,
    fence,
    logger,
    handlers: {
      connect: async () => undefined,
      disconnect: () => status.write("stopped", { reason: "disconnected from the dashboard" }),
      logout: async () => {
        await clearFirestoreAuthState({ db, collectionPath: authStateCollectionPath(bot.tenantId, bot.botId), fence });
        await status.write("logged_out", { reason: "logged out from the dashboard" });
      },
    },
  });
  const consumer = new OutboxConsumer({
    db,
    outbox,
    lease,
    fence,
    commands,
    sends: new SendExecutor({
      outbox,
      lease,
      fence,
      session: { state: "stopped", socket: undefined },
      logger,
      sendTimeoutMs: 1,
    }),
    logger,
    isOpen: () => false,
    maxWaitMs: 0,
  });
  await consumer.drainStopped();
}
