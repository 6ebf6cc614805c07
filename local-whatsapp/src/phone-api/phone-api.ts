import { once } from "node:events";
import type { Server, ServerResponse } from "node:http";
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
import { isJidGroup, type proto, ReachoutTimelockEnforcementType } from "baileys";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { GroupRefusal } from "../groups/group-refusals.ts";
import { downloadMediaOnPhone, uploadMediaFromPhone } from "../media/phone-media.ts";
import type { SimulatedPhone } from "../phone/simulated-phone.ts";
import { CompanionEndpoint } from "../server/client-session.ts";
import type { LocalWhatsApp } from "../server/local-whatsapp.ts";
import { mediaUrlOf, phoneEventOf } from "./phone-events.ts";

/**
 * The local WhatsApp server's phone API: the same contract as the simulator's phones
 * (`@whatsdex/core/phone-api`), so `npm run chat`, the TUI and `npm run dev` drive either. Here a
 * person is a simulated phone with its own account and Signal store (made on first use), and what
 * it sends goes to the bot's real Baileys socket encrypted, over the wire. Loopback only.
 */
export interface PhoneApi {
  url: string;
  close(): Promise<void>;
}

const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost"]);

export async function startPhoneApi(
  server: LocalWhatsApp,
  options: { host: string; port: number; logger: Logger },
): Promise<PhoneApi> {
  if (!loopbackHosts.has(options.host)) {
    throw new Error(`the phone API listens on loopback only (127.0.0.1, ::1 or localhost), not ${options.host}`);
  }
  const streams = new Set<ServerResponse>();
  const seen = new Set<string>();
  const read = new Map<SimulatedPhone, number>();

  /** Each message a bot's companion sent a phone, once (a group message reaches many phones). */
  const watch = (phone: SimulatedPhone) => {
    read.set(phone, phone.inbox.length);
    phone.onChange(() => {
      const from = read.get(phone) ?? 0;
      read.set(phone, phone.inbox.length);
      for (const entry of phone.inbox.slice(from)) {
        const sender = server.directory.resolve(entry.from);
        // A companion's copy of its own message, or a person's message: not a bot's message to show.
        if (entry.recipient || !sender || sender.device === 0 || seen.has(entry.id)) continue;
        seen.add(entry.id);
        if (seen.size > 10_000) seen.delete(seen.values().next().value ?? "");
        const data = `data: ${JSON.stringify(phoneEventOf(phone, entry, server.directory))}\n\n`;
        for (const stream of streams) stream.write(data);
      }
    });
  };
  for (const phone of server.phones()) watch(phone);
  const stopWatching = server.onPhone(watch);

  /** A person, by number: their phone, made (with a new account) the first time they act. */
  // Two requests that first use a number at once get the same new phone, not a second account.
  const creating = new Map<string, Promise<SimulatedPhone>>();
  const phoneOf = async (number: string, name?: string): Promise<SimulatedPhone> => {
    const existing = server.phone(number) ?? creating.get(number);
    if (existing) return existing;
    const made = server.createPhone(number, name ?? number).finally(() => creating.delete(number));
    creating.set(number, made);
    return made;
  };

  const connectedBot = (number: string) => {
    const account = server.directory.byPn(number);
    const connected = [...(account?.devices.values() ?? [])].some((d) => d.endpoint instanceof CompanionEndpoint);
    if (!account || !connected)
      throw new PhoneApiError(404, "bot_not_connected", `no bot with number ${number} is connected`);
    return account;
  };

  const app = express();
  app.disable("x-powered-by");
  let allowed: ReadonlySet<string> = new Set();
  app.use((req, _res, next) => {
    // A web page that rebinds its name to 127.0.0.1 reaches the port, with its own name in Host: refused.
    const host = req.headers.host?.toLowerCase() ?? "";
    if (allowed.has(host)) return next();
    throw new PhoneApiError(
      421,
      "host_not_allowed",
      `the phone API answers ${[...allowed].join(", ")} only, not "${host}"`,
    );
  });
  app.use(express.json({ limit: "25mb" }));

  app.get("/v1/bots", (_req, res) => {
    const bots: Array<{ state: string; number?: string }> = [];
    for (const account of server.directory.accounts()) {
      for (const device of account.devices.values()) {
        if (device.id === 0) continue;
        bots.push({ state: device.endpoint instanceof CompanionEndpoint ? "open" : "offline", number: account.pn });
      }
    }
    for (let i = 0; i < server.links.pending; i++) bots.push({ state: "qr" });
    res.json(bots);
  });

  // The phone scans a QR code a bot shows (the dashboard's `linking/current` document).
  app.post("/v1/link", async (req, res) => {
    const { qr, number } = linkSchema.parse(req.body);
    const phone = await phoneOf(number);
    try {
      await server.scanQr(phone, qr);
    } catch (error) {
      throw new PhoneApiError(404, "qr_not_found", error instanceof Error ? error.message : String(error));
    }
    res.json({ number });
  });

  // The phone enters a bot's pairing code; the number is the one the bot asked to link (the only one waiting when absent).
  app.post("/v1/pair", async (req, res) => {
    const { code, number } = pairSchema
      .extend({
        number: z
          .string()
          .regex(/^\d{7,15}$/)
          .optional(),
      })
      .parse(req.body);
    const requests = server.links.codeRequests().filter((r) => number === undefined || r.pn === number);
    const pn = requests.at(-1)?.pn;
    if (!pn) throw new PhoneApiError(404, "pairing_code_not_found", "no bot waits for a pairing code");
    try {
      await server.enterPairingCode(await phoneOf(pn), code);
    } catch (error) {
      throw new PhoneApiError(404, "pairing_code_not_found", error instanceof Error ? error.message : String(error));
    }
    res.json({ linked: true });
  });

  // A group with admins, made by one of its members' phones (the superadmin's, else the first person's).
  app.post("/v1/groups", async (req, res) => {
    const { subject, participants } = groupSchema.parse(req.body);
    const members = await Promise.all(
      participants.map(async (p) => ({ phone: await phoneOf(p.number), admin: p.admin, number: p.number })),
    );
    const creator = members.find((m) => m.admin === "superadmin") ?? members[0];
    if (!creator) throw new PhoneApiError(400, "invalid_request", "participants: a group needs someone in it");
    const others = members.filter((m) => m !== creator);
    const group = server.groups.create(
      creator.phone.account,
      subject,
      others.map((m) => m.phone.account.lidJid),
    );
    const admins = others.filter((m) => m.admin !== null).map((m) => m.phone.account.lidJid);
    if (admins.length > 0) server.groups.changeParticipants(creator.phone.account, group.jid, "promote", admins);
    res.status(201).json({ jid: group.jid, subject, participants });
  });

  app.post("/v1/messages", async (req, res) => {
    const message = messageSchema.parse(req.body);
    const bot = connectedBot(message.to);
    const phone = await phoneOf(message.from.number, message.from.name);
    const group = message.group ? groupFor(phone, message.group) : undefined;
    const quoted = message.quotedId ? findQuoted(message.quotedId) : undefined;
    if (message.quotedId && !quoted) {
      throw new PhoneApiError(404, "quoted_not_found", `no recent message ${message.quotedId} to reply to`);
    }
    const mentioned = await Promise.all(message.mentions.map(async (n) => (await phoneOf(n)).account.lidJid));
    const contextInfo: proto.IContextInfo = {
      ...(mentioned.length > 0 ? { mentionedJid: mentioned } : {}),
      ...(quoted ? { stanzaId: quoted.id, participant: quoted.sender, quotedMessage: quoted.message } : {}),
    };
    const context = Object.keys(contextInfo).length > 0 ? contextInfo : undefined;
    let content: proto.IMessage;
    if (message.image || message.sticker) {
      // Encrypted and uploaded to the media host as a phone does; the caption and context go with it.
      content = await uploadMediaFromPhone(
        server.media,
        phone,
        message.sticker
          ? { sticker: Buffer.from(message.sticker.data, "base64"), isAnimated: message.sticker.animated }
          : {
              image: Buffer.from(message.image?.data ?? "", "base64"),
              mimetype: message.image?.mimetype ?? "image/jpeg",
              ...(message.text === undefined ? {} : { caption: message.text }),
            },
      );
      const media = content.imageMessage ?? content.stickerMessage;
      if (media && context) media.contextInfo = context;
    } else {
      content = context
        ? { extendedTextMessage: { text: message.text ?? "", contextInfo: context } }
        : { conversation: message.text ?? "" };
    }
    const id = group ? await phone.sendToGroup(group, content) : await phone.send(bot, content);
    res.status(202).json({ id, chat: group ? group.jid : phone.account.lidJid });
  });

  /** The group a phone writes to: it must exist and the phone be in it. */
  const groupFor = (phone: SimulatedPhone, jid: string) => {
    try {
      return server.groups.memberOf(phone.account, jid);
    } catch (error) {
      if (error instanceof GroupRefusal && error.code === 404) {
        throw new PhoneApiError(404, "group_not_found", `no group ${jid}`);
      }
      throw new PhoneApiError(403, "not_a_participant", `${phone.account.pn} is not in ${jid}`);
    }
  };

  // A file a bot sent, downloaded and decrypted by the phone that received it (hashes and MAC checked).
  app.get("/v1/media", async (req, res) => {
    const url = z.object({ url: z.url() }).parse(req.query).url;
    for (const phone of server.phones()) {
      const entry = phone.inbox.find((e) => mediaUrlOf(e.message) === url);
      if (entry) {
        const { bytes } = await downloadMediaOnPhone(server.media, entry.message);
        res.type("application/octet-stream").send(bytes);
        return;
      }
    }
    throw new PhoneApiError(404, "media_not_found", "no phone received media at this URL");
  });

  /** A recent message any phone received or sent, by id, to quote. */
  const findQuoted = (id: string) => {
    for (const phone of server.phones()) {
      const entry = phone.inbox.find((e) => e.id === id);
      if (entry) return { id, sender: entry.from, message: entry.message };
    }
    return undefined;
  };

  // The person's phone reports a bot's message read (or played, or delivered): the bot gets the receipt.
  app.post("/v1/receipts", async (req, res) => {
    const receipt = receiptSchema.parse(req.body);
    const holders = [...server.phones()].filter((p) => p.inbox.some((e) => e.id === receipt.id && !e.recipient));
    const entry = holders[0]?.inbox.find((e) => e.id === receipt.id);
    if (!entry) throw new PhoneApiError(404, "message_not_found", `no recent message ${receipt.id} from a bot`);
    if (isJidGroup(entry.chat) && !receipt.from) {
      throw new PhoneApiError(400, "invalid_request", "from: required for a group message (whose device read it)");
    }
    const phone = receipt.from ? holders.find((p) => p.account.pn === receipt.from?.number) : holders[0];
    if (!phone)
      throw new PhoneApiError(404, "message_not_found", `${receipt.from?.number} did not receive ${receipt.id}`);
    const sender = server.directory.resolve(entry.from);
    if (!sender) throw new PhoneApiError(404, "message_not_found", `the sender of ${receipt.id} is gone`);
    const type = receipt.status === "delivered" ? undefined : receipt.status;
    server.router.route(
      { account: phone.account, device: 0 },
      {
        tag: "receipt",
        attrs: {
          id: receipt.id,
          to: isJidGroup(entry.chat) ? entry.chat : sender.account.deviceJid(0, sender.server),
          ...(isJidGroup(entry.chat) ? { participant: entry.from } : {}),
          ...(type ? { type } : {}),
        },
      },
    );
    res.json({ id: receipt.id, status: receipt.status });
  });

  // WhatsApp warns, locks or refuses a bot's number (ADR 24): its sockets get what the server sends.
  app.post("/v1/signals", (req, res) => {
    const signal = signalSchema.parse(req.body);
    connectedBot(signal.botNumber);
    if (signal.kind === "capping") {
      server.signal(signal.botNumber, {
        kind: "capping",
        capping: {
          status: signal.status,
          used: signal.used,
          total: signal.total,
          cycleEndsAt: signal.cycleEndsAt ? new Date(signal.cycleEndsAt) : undefined,
        },
      });
    } else if (signal.kind === "reachoutLock") {
      const type = Object.values(ReachoutTimelockEnforcementType).find((known) => known === signal.type);
      if (!type) {
        const known = Object.values(ReachoutTimelockEnforcementType).join(", ");
        throw new PhoneApiError(400, "invalid_request", `type: must be one of ${known}`);
      }
      server.signal(signal.botNumber, {
        kind: "reachoutLock",
        lock: { active: signal.active, endsAt: signal.endsAt ? new Date(signal.endsAt) : undefined, type: signal.type },
      });
    } else {
      server.refusals.refuseNext(signal.botNumber, signal.sends);
    }
    res.status(202).json(signal);
  });

  // Server-sent events: every message a bot sends a phone, as the phone receives it.
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
      options.logger.error({ err: error }, "phone API request failed");
      res.status(500).json({ code: "internal", message: error instanceof Error ? error.message : String(error) });
    }
  });

  const http: Server = app.listen(options.port, options.host);
  await once(http, "listening");
  const address = http.address();
  if (address === null || typeof address === "string") throw new Error("the phone API has no TCP address");
  allowed = new Set([`127.0.0.1:${address.port}`, `localhost:${address.port}`, `[::1]:${address.port}`]);
  const url = `http://${options.host === "::1" ? "[::1]" : options.host}:${address.port}`;
  return {
    url,
    async close() {
      stopWatching();
      for (const stream of streams) stream.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

export type { PhoneEvent };
