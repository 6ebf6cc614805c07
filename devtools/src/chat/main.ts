/**
 * `npm run chat`: you, as a WhatsApp user, talking to a bot of the running `npm run dev` — in a
 * private chat or a group where you are an admin — through the phone API (the local WhatsApp
 * server's: over the wire to the bot's Baileys socket; or the simulator's), so every message goes
 * through the real pipeline, commands, workers and Firestore. Media the bot
 * sends (stickers, images) is saved under `<home>/chat/` and its path printed.
 *
 *   --home <dir>      the `npm run dev` home to find the stack in (default .dev/)
 *   --bot <number>    the bot's linked number (default: the demo bot)
 *   --as <number>     your number (default 15550100002)
 *
 * Lines on stdin are sent as they come, so it can be scripted: `printf '.ping\n' | npm run chat`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { DEFAULT_DEV_HOME, readDevEndpoints } from "../dev/dev-endpoints.ts";
import { PhoneApiError, PhoneClient, type PhoneEvent } from "../phone-client.ts";

const { values: flags } = parseArgs({
  options: {
    home: { type: "string", default: DEFAULT_DEV_HOME },
    bot: { type: "string" },
    as: { type: "string", default: "15550100002" },
  },
});
const home = resolve(flags.home);
const endpoints = (() => {
  try {
    return readDevEndpoints(home);
  } catch (error) {
    // Not a crash: the stack is not up. Say so, without a stack trace.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
})();
const bot = flags.bot ?? endpoints.demo.botNumber;
const phones = new PhoneClient(endpoints.phonesUrl);
const mediaDir = join(home, "chat");
mkdirSync(mediaDir, { recursive: true });

/** A second member of the group, for trying the admin commands on (`.kick @15550100003`). */
const MEMBER = "15550100003";
const QUIET_MS = 4_000;
let me = flags.as;
/** Everyone this terminal has spoken as: their private chats are shown. */
const speakers = new Set([me]);
const { jid: group } = await phones.createGroup("Demo group", [
  { number: bot, admin: "admin" },
  { number: flags.as, admin: "superadmin" },
  { number: MEMBER, admin: null },
]);
let chat: "private" | "group" = "private";
let lastFromBot: string | undefined;
let lastActivity = Date.now();

const help = `Type to send to the bot (try .menu). Also:
  /image <path> [caption]   send an image, e.g. /image photo.jpg .sticker
  /reply <text>             reply to the bot's last message, e.g. /reply .toimg after a sticker
  /group, /private          switch between the group "Demo group" (you are its admin) and a private chat
  /as <number>              speak as someone else, e.g. /as ${MEMBER} (the group's plain member)
  /help, /quit`;

const output = (line: string) => process.stdout.write(`${line}\n`);
const where = () => (chat === "group" ? "group" : "private");

async function show(event: PhoneEvent): Promise<void> {
  if (event.bot !== bot) return;
  const inGroup = event.chat === group;
  if (!inGroup && !speakers.has(event.number ?? "")) return;
  lastFromBot = event.id;
  lastActivity = Date.now();
  const label = `bot → ${inGroup ? "group" : event.number === flags.as ? "you" : `+${event.number}`}`;
  if (event.mediaUrl && event.kind !== "text") {
    const data = await phones.media(event.mediaUrl);
    const extension = event.kind === "sticker" ? ".webp" : event.mimetype === "image/png" ? ".png" : ".jpg";
    const file = join(mediaDir, `${event.id}${extension}`);
    writeFileSync(file, data);
    output(`${label}: [${event.kind}, ${data.length} bytes: ${file}]${event.text ? ` ${event.text}` : ""}`);
  } else {
    output(`${label}: ${event.text ?? `[${event.kind}]`}`);
  }
}

const stopEvents = await phones.events((event) => {
  show(event).catch((error: unknown) => output(`(could not show a message: ${String(error)})`));
});

async function send(text: string | undefined, extra: { image?: string; quotedId?: string } = {}): Promise<void> {
  const image = extra.image
    ? {
        data: readFileSync(extra.image).toString("base64"),
        mimetype: extname(extra.image).toLowerCase() === ".png" ? ("image/png" as const) : ("image/jpeg" as const),
      }
    : undefined;
  lastActivity = Date.now();
  await phones.send({
    to: bot,
    from: { number: me },
    ...(chat === "group" ? { group } : {}),
    ...(text === undefined ? {} : { text }),
    ...(image ? { image } : {}),
    ...(extra.quotedId ? { quotedId: extra.quotedId } : {}),
  });
}

async function handle(line: string): Promise<boolean> {
  const [word = "", ...rest] = line.trim().split(/\s+/);
  const tail = rest.join(" ");
  switch (word) {
    case "":
      return true;
    case "/quit":
      return false;
    case "/help":
      output(help);
      return true;
    case "/group":
    case "/private":
      chat = word === "/group" ? "group" : "private";
      output(`(now in the ${where()} chat)`);
      return true;
    case "/as":
      me = tail.replace(/\D/g, "") || flags.as;
      speakers.add(me);
      output(`(you are now +${me})`);
      return true;
    case "/image": {
      const [path, ...caption] = rest;
      if (!path) output("usage: /image <path> [caption]");
      else await send(caption.length > 0 ? caption.join(" ") : undefined, { image: path });
      return true;
    }
    case "/reply":
      if (!lastFromBot) output("(the bot has sent nothing to reply to yet)");
      else await send(tail, { quotedId: lastFromBot });
      return true;
    default:
      await send(line);
      return true;
  }
}

output(`You are +${me}, chatting with the bot +${bot} (private chat; /group for the group). /help for more.`);
const input = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
input.setPrompt(`${where()}> `);
if (process.stdin.isTTY) input.prompt();
for await (const line of input) {
  try {
    if (!(await handle(line))) break;
  } catch (error) {
    output(error instanceof PhoneApiError ? `(${error.message})` : `(failed: ${String(error)})`);
  }
  input.setPrompt(`${where()}> `);
  if (process.stdin.isTTY) input.prompt();
}
input.close();
if (!process.stdin.isTTY) {
  // Scripted: the input ended, but the bot's answers (stickers take a job) may still be coming.
  // Leave once it has been quiet for a few seconds, or after a minute in any case.
  const deadline = Date.now() + 60_000;
  while (Date.now() - lastActivity < QUIET_MS && Date.now() < deadline) await sleep(250);
}
stopEvents();
