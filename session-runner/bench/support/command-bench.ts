import { Firestore } from "@google-cloud/firestore";
import { trace } from "@opentelemetry/api";
import { defaultBotSettings } from "@whatsdex/core";
import { initAuthCreds, type WAMessage } from "baileys";
import { pino } from "pino";
import { allCommands } from "../../src/commands/all-commands.ts";
import { CommandRegistry } from "../../src/commands/command.ts";
import { CommandEngine } from "../../src/commands/engine.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../../src/transport/simulator/simulator.ts";
import { offlineServices } from "../../test/support/offline-services.ts";

/** Limits far above what one benchmark loop sends: the pipeline's checks run, they just never refuse. */
const UNLIMITED = { capacity: 1e12, refillPerSecond: 1e12 };

/**
 * An open simulated socket (a linked bot) and the command engine on it, in this process; every
 * message comes from a new sender so cooldowns never refuse, and has a new id so dedupe never drops.
 */
export async function commandBench() {
  const whatsapp = new SimulatedWhatsApp();
  const creds = { ...initAuthCreds(), registered: true, me: { id: "6281234567890:1@s.whatsapp.net" } };
  const socket = whatsapp.transport().connect({
    auth: { creds, keys: { get: async () => ({}), set: async () => undefined } },
    logger: pino({ level: "silent" }),
    getMessage: async () => undefined,
    cachedGroupMetadata: async () => undefined,
  });
  await new Promise<void>((resolve) => socket.on("connection.update", (u) => u.connection === "open" && resolve()));
  const simulated = whatsapp.liveSockets[0] as SimulatedSocket;
  const engine = new CommandEngine({
    // Every command, as a runner registers them: `menu` lists them all.
    commands: new CommandRegistry(allCommands),
    settings: () => defaultBotSettings,
    send: async (chat, text, { quoted }) => {
      await socket.sendMessage(chat, { text }, quoted ? { quoted } : {});
    },
    identify: () => ({ lid: null, pn: null }),
    self: () => ({ lid: null, pn: "6281234567890@s.whatsapp.net" }),
    // A client that never connects: private-chat info commands read nothing.
    services: offlineServices(new Firestore({ projectId: "bench" })),
    tracer: trace.getTracer("bench"),
    logger: pino({ level: "silent" }),
    version: "bench",
    limits: { user: UNLIMITED, chat: UNLIMITED, bot: UNLIMITED },
  });
  let n = 0;
  const message = (text: string): WAMessage => {
    n += 1;
    return {
      key: { remoteJid: `${100_000_000_000 + n}@lid`, id: `BENCH${n}`, fromMe: false },
      message: { conversation: text },
      messageTimestamp: Math.floor(Date.now() / 1000),
    };
  };
  return { socket: simulated, engine, message };
}
