import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Server, ServerResponse } from "node:http";
import type { Logger } from "@whatsdex/core";
import {
  groupSchema,
  linkSchema,
  messageSchema,
  PhoneApiError,
  type PhoneEvent,
  pairSchema,
  receiptSchema,
  signalSchema,
} from "@whatsdex/core/phone-api";
import {
  type GroupMetadata,
  NewChatMessageCappingStatusType,
  type proto,
  ReachoutTimelockEnforcementType,
  type WAMessage,
  WAMessageAddressingMode,
} from "baileys";
import express, { type NextFunction, type Request, type Response } from "express";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import type { SentMessage, SimulatedSocket, SimulatedWhatsApp } from "./simulator.ts";

/**
 * The other side of the simulated WhatsApp: the phones. A local HTTP API (development only, bound
 * to loopback) through which `npm run chat`, the TUI and the end-to-end test act as WhatsApp users
 * do — scan a bot's QR code, create a group, send text and images, read what the bots send back —
 * while everything on the bot's side (pipeline, commands, workers, Firestore) is the real thing.
 * It only reaches what a phone could: bots by their linked number, QR codes as the dashboard shows
 * them. See ADR 12.
 */

export const numberOf = (jid: string | null | undefined) => jid?.split("@")[0]?.split(":")[0] ?? "";

/** A simulated user's LID: stable per number, so a person keeps one identity across restarts. */
export function lidOf(number: string): string {
  return `${[...number].reverse().join("").padEnd(15, "7").slice(0, 15)}@lid`;
}

function textOf(message: proto.IMessage | null | undefined): string | undefined {
  const location = message?.locationMessage;
  return (
    message?.conversation ??
    message?.extendedTextMessage?.text ??
    message?.imageMessage?.caption ??
    message?.videoMessage?.caption ??
    message?.documentMessage?.caption ??
    (location
      ? `${location.name ?? "location"} (${location.degreesLatitude}, ${location.degreesLongitude})`
      : undefined) ??
    message?.contactMessage?.displayName ??
    message?.reactionMessage?.text ??
    undefined
  );
}

/** What a phone shows a message without media as. */
function kindOf(message: proto.IMessage | null | undefined, text: string | undefined): PhoneEvent["kind"] {
  if (message?.locationMessage) return "location";
  if (message?.contactMessage) return "contact";
  if (message?.reactionMessage) return "reaction";
  return text === undefined ? "other" : "text";
}

function eventOf(socket: SimulatedSocket, sent: SentMessage, lids: ReadonlyMap<string, string>): PhoneEvent {
  const content = sent.message.message;
  const media =
    (content?.imageMessage && (["image", content.imageMessage] as const)) ||
    (content?.stickerMessage && (["sticker", content.stickerMessage] as const)) ||
    (content?.videoMessage && (["video", content.videoMessage] as const)) ||
    (content?.audioMessage && (["audio", content.audioMessage] as const)) ||
    (content?.documentMessage && (["document", content.documentMessage] as const)) ||
    undefined;
  const context = content?.extendedTextMessage?.contextInfo ?? media?.[1].contextInfo ?? undefined;
  const mentioned = context?.mentionedJid ?? [];
  // As a phone renders a mention: `@<LID>` in the text shows as the person, here their number.
  const text = mentioned.reduce<string | undefined>((rendered, jid) => {
    const number = lids.get(jid);
    return number ? rendered?.replaceAll(`@${numberOf(jid)}`, `@${number}`) : rendered;
  }, textOf(content));
  const number = sent.jid.endsWith("@g.us") ? undefined : (lids.get(sent.jid) ?? numberOf(sent.jid));
  return {
    id: sent.message.key.id ?? "",
    bot: numberOf(socket.creds.me?.id),
    chat: sent.jid,
    ...(number ? { number } : {}),
    kind: media ? media[0] : kindOf(content, text),
    ...(text === undefined ? {} : { text }),
    ...(media?.[1].url ? { mediaUrl: media[1].url } : {}),
    ...(media?.[1].mimetype ? { mimetype: media[1].mimetype } : {}),
    mentions: mentioned.map((jid) => lids.get(jid) ?? numberOf(jid)),
    ...(context?.stanzaId ? { quotedId: context.stanzaId } : {}),
    ...(content?.reactionMessage?.key?.id ? { quotedId: content.reactionMessage.key.id } : {}),
    at: new Date().toISOString(),
  };
}

export interface SimulatorPhones {
  url: string;
  close(): Promise<void>;
}

/** The phone API speaks for every simulated user: it listens on loopback only. */
const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * The Host header a request to this server carries when a local tool sends it. A web page that
 * rebinds its own name to 127.0.0.1 reaches the port too, but with its name in Host: refused.
 */
function hostsAllowed(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

export async function startSimulatorPhones(
  whatsapp: SimulatedWhatsApp,
  options: { host: string; port: number; logger: Logger },
): Promise<SimulatorPhones> {
  if (!loopbackHosts.has(options.host)) {
    throw new Error(
      `The simulator's phone API listens on loopback only (127.0.0.1, ::1 or localhost), not ${options.host}.`,
    );
  }
  /** LID → number of every person this API has spoken for, so the bots' replies name them. */
  const lids = new Map<string, string>();
  /** Recent messages both ways, for replies that quote one. */
  const recent = new LRUCache<string, { message: WAMessage; sender: string; bot?: SimulatedSocket }>({ max: 2_000 });
  const streams = new Set<ServerResponse>();

  const stopListening = whatsapp.onSent((socket, sent) => {
    const me = socket.creds.me;
    recent.set(sent.message.key.id ?? "", { message: sent.message, sender: me?.lid ?? me?.id ?? "", bot: socket });
    const data = `data: ${JSON.stringify(eventOf(socket, sent, lids))}\n\n`;
    for (const stream of streams) stream.write(data);
  });

  const botByNumber = (number: string): SimulatedSocket => {
    const socket = whatsapp.liveSockets.find((s) => s.state === "open" && numberOf(s.creds.me?.id) === number);
    if (!socket) throw new PhoneApiError(404, "bot_not_connected", `no bot with number ${number} is connected`);
    return socket;
  };
  const identityOf = (number: string) => {
    const bot = whatsapp.liveSockets.find((s) => numberOf(s.creds.me?.id) === number)?.creds.me;
    const lid = bot?.lid ? `${numberOf(bot.lid)}@lid` : lidOf(number);
    lids.set(lid, number);
    return { lid, pn: `${number}@s.whatsapp.net` };
  };

  const app = express();
  app.disable("x-powered-by");
  let allowed: ReadonlySet<string> = new Set();
  app.use((req, _res, next) => {
    const host = req.headers.host?.toLowerCase() ?? "";
    if (allowed.has(host)) return next();
    throw new PhoneApiError(
      421,
      "host_not_allowed",
      `the phone API answers requests addressed to ${[...allowed].join(", ")} only, not to Host "${host}"`,
    );
  });
  app.use(express.json({ limit: "25mb" }));

  app.get("/v1/bots", (_req, res) => {
    res.json(
      whatsapp.liveSockets.map((s) => ({
        state: s.state,
        ...(s.creds.me?.id ? { number: numberOf(s.creds.me.id) } : {}),
        ...(s.qr ? { qr: s.qr } : {}),
        ...(s.pairingCode ? { pairingCode: s.pairingCode } : {}),
      })),
    );
  });

  // The phone scans a QR code shown on the dashboard (the bot's `linking/current` document).
  app.post("/v1/link", (req, res) => {
    const { qr, number } = linkSchema.parse(req.body);
    const socket = whatsapp.liveSockets.find((s) => s.qr === qr);
    if (!socket) throw new PhoneApiError(404, "qr_not_found", "no bot shows this QR code (expired or already linked)");
    socket.link(number);
    res.json({ number });
  });

  app.post("/v1/pair", (req, res) => {
    const { code } = pairSchema.parse(req.body);
    const socket = whatsapp.liveSockets.find((s) => s.pairingCode === code);
    if (!socket) throw new PhoneApiError(404, "pairing_code_not_found", "no bot waits for this pairing code");
    socket.enterPairingCode(code);
    res.json({ linked: true });
  });

  app.post("/v1/groups", (req, res) => {
    const { subject, participants } = groupSchema.parse(req.body);
    const jid = `120363${BigInt(`0x${randomBytes(6).toString("hex")}`)
      .toString()
      .padStart(12, "0")}@g.us`;
    const members = participants.map(({ number, admin }) => {
      const { lid, pn } = identityOf(number);
      return { id: lid, phoneNumber: pn, admin };
    });
    const metadata: GroupMetadata = {
      id: jid,
      subject,
      owner: members.find((m) => m.admin === "superadmin")?.id ?? members[0]?.id,
      participants: members,
      size: members.length,
      creation: Math.floor(Date.now() / 1000),
      addressingMode: WAMessageAddressingMode.LID,
    };
    whatsapp.addGroup(metadata);
    res.status(201).json({ jid, subject, participants });
  });

  app.post("/v1/messages", (req, res) => {
    const message = messageSchema.parse(req.body);
    const socket = botByNumber(message.to);
    const from = identityOf(message.from.number);
    if (message.group) {
      const group = whatsapp.group(message.group);
      if (!group) throw new PhoneApiError(404, "group_not_found", `no group ${message.group}`);
      if (!group.participants.some((p) => p.id === from.lid))
        throw new PhoneApiError(403, "not_a_participant", `${message.from.number} is not in ${message.group}`);
    }
    const quoted = message.quotedId ? recent.get(message.quotedId) : undefined;
    if (message.quotedId && !quoted)
      throw new PhoneApiError(404, "quoted_not_found", `no recent message ${message.quotedId} to reply to`);
    const contextInfo: proto.IContextInfo = {
      ...(message.mentions.length > 0 ? { mentionedJid: message.mentions.map((n) => identityOf(n).lid) } : {}),
      ...(quoted && message.quotedId
        ? { stanzaId: message.quotedId, participant: quoted.sender, quotedMessage: quoted.message.message }
        : {}),
    };
    const context = Object.keys(contextInfo).length > 0 ? { contextInfo } : {};
    const content: proto.IMessage = message.sticker
      ? {
          stickerMessage: {
            url: whatsapp.storeMedia(Buffer.from(message.sticker.data, "base64")),
            mimetype: "image/webp",
            isAnimated: message.sticker.animated,
            ...context,
          },
        }
      : message.image
        ? {
            imageMessage: {
              url: whatsapp.storeMedia(Buffer.from(message.image.data, "base64")),
              mimetype: message.image.mimetype,
              fileLength: Buffer.byteLength(message.image.data, "base64"),
              ...(message.text === undefined ? {} : { caption: message.text }),
              ...context,
            },
          }
        : context.contextInfo
          ? { extendedTextMessage: { text: message.text ?? "", ...context } }
          : { conversation: message.text ?? "" };
    const id = `3EB0${randomBytes(9).toString("hex").toUpperCase()}`;
    const key = message.group
      ? { remoteJid: message.group, id, fromMe: false, participant: from.lid, participantAlt: from.pn }
      : { remoteJid: from.lid, id, fromMe: false, remoteJidAlt: from.pn };
    const delivered = socket.deliver({
      key,
      message: content,
      messageTimestamp: Math.floor(Date.now() / 1000),
      pushName: message.from.name ?? message.from.number,
    });
    recent.set(id, { message: delivered, sender: from.lid });
    res.status(202).json({ id, chat: key.remoteJid });
  });

  // The phone's device reports a bot's message read (or played, or delivered): the bot gets the receipt.
  app.post("/v1/receipts", (req, res) => {
    const receipt = receiptSchema.parse(req.body);
    const sent = recent.get(receipt.id);
    const bot = sent?.bot;
    if (!sent || bot?.state !== "open") {
      throw new PhoneApiError(404, "message_not_found", `no recent message ${receipt.id} from a connected bot`);
    }
    const isGroup = sent.message.key.remoteJid?.endsWith("@g.us") ?? false;
    if (isGroup && !receipt.from) {
      throw new PhoneApiError(400, "invalid_request", "from: required for a group message (whose device read it)");
    }
    bot.receipt(sent.message.key, receipt.status, receipt.from ? identityOf(receipt.from.number).lid : undefined);
    res.json({ id: receipt.id, status: receipt.status });
  });

  // WhatsApp warns, locks or refuses a bot's number (ADR 24): the bot's socket gets what the server would send.
  app.post("/v1/signals", (req, res) => {
    const signal = signalSchema.parse(req.body);
    const socket = botByNumber(signal.botNumber);
    if (signal.kind === "capping") {
      socket.capping({
        capping_status: NewChatMessageCappingStatusType[signal.status],
        ...(signal.used === undefined ? {} : { used_quota: signal.used }),
        ...(signal.total === undefined ? {} : { total_quota: signal.total }),
        ...(signal.cycleEndsAt
          ? { cycle_end_timestamp: String(Math.floor(Date.parse(signal.cycleEndsAt) / 1000)) }
          : {}),
        server_sent_timestamp: String(Math.floor(Date.now() / 1000)),
      });
    } else if (signal.kind === "reachoutLock") {
      const type = Object.values(ReachoutTimelockEnforcementType).find((known) => known === signal.type);
      if (!type) {
        const known = Object.values(ReachoutTimelockEnforcementType).join(", ");
        throw new PhoneApiError(400, "invalid_request", `type: must be one of ${known}`);
      }
      const endsAt = signal.endsAt ? new Date(signal.endsAt) : new Date(Date.now() + 60_000);
      // As Baileys reports a lifted lock: inactive, of the DEFAULT (no restriction) type.
      socket.reachoutLock(
        signal.active
          ? { isActive: true, timeEnforcementEnds: endsAt, enforcementType: type }
          : { isActive: false, enforcementType: ReachoutTimelockEnforcementType.DEFAULT },
      );
    } else {
      socket.refuseNextSends(signal.sends);
    }
    res.status(202).json(signal);
  });

  app.get("/v1/media", (req, res) => {
    const url = z.object({ url: z.url() }).parse(req.query).url;
    const data = whatsapp.media(url);
    if (!data) throw new PhoneApiError(404, "media_not_found", "no such media (expired or never sent)");
    res.type("application/octet-stream").send(data);
  });

  // Server-sent events: every message any bot sends, as it is sent.
  app.get("/v1/events", (req, res) => {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    res.write(": connected\n\n");
    streams.add(res);
    req.once("close", () => streams.delete(res));
  });

  app.use((_req, res) => {
    res.status(404).json({ code: "not_found", message: "no such route" });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof z.ZodError) {
      const issues = error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
      res.status(400).json({ code: "invalid_request", message: issues.join("; ") });
    } else if (error instanceof PhoneApiError) {
      res.status(error.status).json({ code: error.code, message: error.message });
    } else if (error instanceof SyntaxError) {
      res.status(400).json({ code: "invalid_json", message: "the body is not JSON" });
    } else {
      options.logger.error({ err: error }, "simulator phone request failed");
      res.status(500).json({ code: "internal", message: error instanceof Error ? error.message : String(error) });
    }
  });

  const server: Server = app.listen(options.port, options.host);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the simulator's phone API has no TCP address");
  allowed = hostsAllowed(address.port);
  const url = `http://${options.host === "::1" ? "[::1]" : options.host}:${address.port}`;
  options.logger.info({ url }, "simulator phone API listening");
  return {
    url,
    async close() {
      stopListening();
      for (const stream of streams) stream.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
