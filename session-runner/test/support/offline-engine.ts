import type { Firestore } from "@google-cloud/firestore";
import { trace } from "@opentelemetry/api";
import { type BotSettings, defaultBotSettings } from "@whatsdex/core";
import type { WAMessage } from "baileys";
import { pino } from "pino";
import type { CommandRegistry, CommandServices } from "../../src/commands/command.ts";
import { CommandEngine, type CommandEngineOptions } from "../../src/commands/engine.ts";
import { offlineServices } from "./offline-services.ts";

/** The bot's own account in engines without a session. */
export const OFFLINE_SELF = { lid: "100000000001@lid", pn: "6281234567890@s.whatsapp.net" } as const;

export interface OfflineEngineOptions
  extends Partial<Omit<CommandEngineOptions, "commands" | "settings" | "send" | "services">> {
  settings?: BotSettings;
  services?: Partial<Omit<CommandServices, "stats">>;
}

/**
 * A command engine with no socket or session behind it (unit tests, benchmarks): what it sends is
 * recorded, its services are `offlineServices` unless overridden, and `say` hands it a private
 * message (a fresh id each time) from `from`.
 */
export function offlineEngine(db: Firestore, commands: CommandRegistry, options: OfflineEngineOptions = {}) {
  const { settings = defaultBotSettings, services, ...rest } = options;
  const sent: Array<{ chat: string; text: string }> = [];
  const engine = new CommandEngine({
    commands,
    settings: () => settings,
    send: async (chat, text) => {
      sent.push({ chat, text });
    },
    identify: () => ({ lid: null, pn: null }),
    self: () => OFFLINE_SELF,
    services: { ...offlineServices(db), ...services },
    tracer: trace.getTracer("test"),
    logger: pino({ level: "silent" }),
    version: "test",
    ...rest,
  });
  let n = 0;
  const say = (text: string, from = "200000000009@lid"): Promise<string> => {
    n += 1;
    const message: WAMessage = {
      key: { remoteJid: from, id: `M${n}`, fromMe: false },
      message: { conversation: text },
    };
    return engine.handle(message);
  };
  return { engine, say, sent, texts: () => sent.map((s) => s.text) };
}
