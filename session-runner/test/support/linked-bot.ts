import { type BotSettings, defaultBotSettings } from "@whatsdex/core";
import { waitFor } from "@whatsdex/core/testing";
import type { GroupMetadata, proto, WAMessage } from "baileys";
import type { Firestore } from "firebase-admin/firestore";
import type { CommandRegistry } from "../../src/commands/command.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./fleet.ts";

/** The number the bot's phone links, and the JIDs WhatsApp gives it (see SimulatedSocket.link). */
export const BOT_PN = "6281234567890@s.whatsapp.net";
export const BOT_LID = "567890628123456@lid";

export interface Speaker {
  lid: string;
  pn: string;
  name: string;
}

export interface SayOptions {
  chat?: string;
  from?: Speaker;
  id?: string;
  mentions?: string[];
  /** The message this one replies to. */
  quoted?: WAMessage;
}

/**
 * A bot linked through the simulator, held by a real supervisor on the Firestore emulator, with
 * the given commands and groups; `say` sends as a WhatsApp user, `reply(n)` waits for the bot's nth send.
 */
export async function linkedBot(
  db: Firestore,
  options: {
    commands: CommandRegistry;
    groups?: GroupMetadata[];
    settings?: Partial<BotSettings>;
    defaultSpeaker: Speaker;
    cleanups: Array<() => Promise<void>>;
    /** Runs once the bot exists, before any runner holds it. */
    beforeStart?: (bot: { tenantId: string; botId: string }) => Promise<void>;
  },
) {
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const botId = botIds[0] ?? "";
  await options.beforeStart?.({ tenantId, botId });
  if (options.settings) {
    await db
      .doc(`tenants/${tenantId}/bots/${botId}`)
      .update({ settings: { ...defaultBotSettings, ...options.settings } });
  }
  const whatsapp = new SimulatedWhatsApp();
  for (const group of options.groups ?? []) whatsapp.addGroup(group);
  const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], commands: options.commands });
  supervisor.start();
  options.cleanups.push(() => supervisor.stop());
  (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link("6281234567890");
  const socket: SimulatedSocket = await waitFor("an open socket", async () =>
    whatsapp.liveSockets.find((s) => s.state === "open"),
  );
  let n = 0;
  const say = (text: string, sayOptions: SayOptions = {}): WAMessage => {
    n += 1;
    const chat = sayOptions.chat ?? (sayOptions.from ?? options.defaultSpeaker).lid;
    const from = sayOptions.from ?? options.defaultSpeaker;
    const contextInfo: proto.IContextInfo = {
      ...(sayOptions.mentions ? { mentionedJid: sayOptions.mentions } : {}),
      ...(sayOptions.quoted
        ? {
            stanzaId: sayOptions.quoted.key.id,
            participant: sayOptions.quoted.key.participant ?? sayOptions.quoted.key.remoteJid,
            quotedMessage: sayOptions.quoted.message,
          }
        : {}),
    };
    const hasContext = Object.keys(contextInfo).length > 0;
    return socket.deliver({
      key: {
        remoteJid: chat,
        id: sayOptions.id ?? `IN${n}`,
        fromMe: false,
        ...(chat.endsWith("@g.us") ? { participant: from.lid, participantAlt: from.pn } : { remoteJidAlt: from.pn }),
      },
      message: hasContext ? { extendedTextMessage: { text, contextInfo } } : { conversation: text },
      messageTimestamp: Math.floor(Date.now() / 1000),
      pushName: from.name,
    });
  };
  const textOf = (message: WAMessage) =>
    message.message?.extendedTextMessage?.text ?? message.message?.conversation ?? undefined;
  const replies = (after = 0) => socket.sent.slice(after).map((s) => textOf(s.message));
  const reply = async (after: number) => {
    await waitFor(`send ${after}`, async () => (socket.sent.length > after ? true : undefined));
    return replies(after)[0];
  };
  /** Sends `marker` and waits for its reply: whatever came before had its chance to answer. */
  const settle = async (marker: () => WAMessage) => {
    const before = socket.sent.length;
    marker();
    await waitFor("the marker's reply", async () => (socket.sent.length > before ? true : undefined));
  };
  return { tenantId, botId, whatsapp, socket, say, reply, replies, settle };
}
