import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  COMMAND_HANDLED,
  createLogger,
  type Firebase,
  LeaseStore,
  leaseFence,
  startTracing,
  type Tracing,
} from "@whatsdex/core";
import { requireEnv, testFirebase, testRedis, uniqueId } from "@whatsdex/core/testing";
import {
  CommandRegistry,
  infoCommands,
  linkedBot,
  type Runner,
  StatusWriter,
  sessionMetrics,
  startRunner,
  startSimulatorPhones,
  tenantWithBots,
} from "@whatsdex/session-runner/testing";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import jsqr from "jsqr";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Terminal } from "./support/terminal.ts";

/**
 * `npm run tui` in a real terminal (tmux): the screen it draws from real Firestore documents,
 * BullMQ queues in Redis, a runner's /metrics and a log file; what it says when they are not there;
 * and a clean exit on `q` and Ctrl-C.
 */
const tuiMain = fileURLToPath(new URL("../src/tui/main.ts", import.meta.url));
const docsScreen = fileURLToPath(new URL("../../docs/tui-screen.txt", import.meta.url));
const tuiCommand = [process.execPath, "--conditions=@whatsdex/source", tuiMain];

const dir = mkdtempSync(join(tmpdir(), "whatsdex-tui-"));
const logFile = join(dir, "session-runner.log");
const prefix = uniqueId("tui-jobs");
/** What a Baileys QR code looks like: a ref and three base64 keys (about 230 characters). */
const qrCode = `2@${randomBytes(66).toString("base64")},${[1, 2, 3].map(() => randomBytes(32).toString("base64")).join(",")}`;

let firebase: Firebase;
let redis: Redis;
let queue: Queue;
let tracing: Tracing;
let runner: Runner;
let fleet: Awaited<ReturnType<typeof tenantWithBots>>;
let writers: StatusWriter[];
let terminal: Terminal;

/** The TUI's environment: nothing inherited, and no `npm run dev` of this machine's looked at. */
function tuiEnv(overrides: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    TERM: "xterm-256color",
    WHATSDEX_DEV_HOME: dir,
    // As in CI: the TUI must draw in a terminal even then.
    CI: "true",
    ...overrides,
  };
}

function logLine(bot: number, fields: Record<string, unknown>, message: string): void {
  const destination = pino.destination({ dest: logFile, sync: true, append: true });
  const logger = createLogger({ level: "info", service: "session-runner", version: "test", destination });
  logger.child({ tenantId: fleet.tenantId, botId: fleet.botIds[bot] }).info(fields, message);
  destination.flushSync();
  destination.end();
}

beforeAll(async () => {
  firebase = testFirebase();
  const db = firebase.firestore;
  fleet = await tenantWithBots(db, 2);
  const [qrBot, pairingBot] = fleet.botIds.map((botId) => ({ tenantId: fleet.tenantId, botId }));
  if (!qrBot || !pairingBot) throw new Error("tenantWithBots made fewer bots than asked");

  // As a runner holding both bots writes them: one shows a QR code, the other a pairing code.
  const leases = new LeaseStore(db, { ttlMs: 600_000 });
  writers = [];
  for (const bot of [qrBot, pairingBot]) {
    const lease = await leases.acquire(bot, "runner-tui-test");
    if (!lease) throw new Error("the test's lease is held by someone else");
    writers.push(new StatusWriter(db, bot, leaseFence(leases, lease)));
  }
  const expiresAt = new Date(Date.now() + 10 * 60_000);
  await writers[0]?.write("qr", { linking: { qr: { code: qrCode, expiresAt }, pairingCode: null } });
  await writers[1]?.write("pairing", { linking: { qr: null, pairingCode: { code: "ABCD2345", expiresAt } } });
  // Each bot has its `connect` item in the outbox; the first also a message.
  await fleet.bots.sendMessage(
    fleet.access,
    qrBot.botId,
    { to: "6281234567890", content: { type: "text", text: "hello" } },
    undefined,
  );

  redis = testRedis();
  queue = new Queue("media", { connection: redis, prefix });
  await queue.add("media.qr", { note: "waiting" });
  await queue.add("media.qr", { note: "later" }, { delay: 3_600_000 });

  tracing = await startTracing({ serviceName: "tui-test", version: "test", exporter: "memory" });
  runner = await startRunner({
    logger: createLogger({ level: "silent", service: "session-runner", version: "test" }),
    tracing,
    version: "test",
    instanceId: "runner-tui-test",
    host: "127.0.0.1",
    port: 0,
    shutdownGraceMs: 1_000,
  });
  const { events } = sessionMetrics(runner.metrics.registry);
  events.command?.("ping", "ok", 0.0123);
  events.command?.("sticker", "error", 0.25);

  writeFileSync(logFile, "(node:123) Warning: a line that is not JSON\n");
  logLine(0, { command: "ping", outcome: "ok", ms: 12.3 }, COMMAND_HANDLED);
  logLine(1, { command: "sticker", outcome: "error", ms: 250 }, COMMAND_HANDLED);
  logLine(0, {}, "session open");

  terminal = new Terminal(
    tuiCommand,
    tuiEnv({
      FIRESTORE_EMULATOR_HOST: requireEnv("FIRESTORE_EMULATOR_HOST"),
      GCLOUD_PROJECT: requireEnv("GCLOUD_PROJECT"),
      REDIS_URL: requireEnv("REDIS_URL"),
      BULLMQ_PREFIX: prefix,
      RUNNER_URL: runner.url,
      WHATSDEX_LOG_FILE: logFile,
      WHATSDEX_TUI_TENANTS: fleet.tenantId,
    }),
  );
});

afterAll(async () => {
  terminal?.stop();
  await queue?.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
  await runner?.stop("test over");
  await firebase?.close();
  rmSync(dir, { recursive: true, force: true });
});

// The first screen waits for the TUI's start (Node, the Admin SDK, ink): more than the default 20 s allows on a busy machine.
describe("npm run tui", { timeout: 45_000 }, () => {
  it("lists the tenant's bots with transport, desired and connection state, lease owner and outbox depth", async () => {
    const text = await terminal.screenWhere(
      "both bots with their leases and outbox depths",
      (s) =>
        /bot 0 +simulator +running +qr +in \d+m · runner-tui-test +2 /.test(s) &&
        /bot 1 +simulator +running +pairing +in \d+m · runner-tui-test +1 /.test(s),
    );
    expect(text).toContain(`tenants: ${fleet.tenantId}`);
    expect(text).toContain("2 bots");
  });

  it("draws the selected bot's QR code so that it scans to the code the runner wrote", async () => {
    const text = await terminal.screenWhere("the QR code", (s) => s.includes("QR code, expires in"));
    expect(decodeQr(text)).toBe(qrCode);
  });

  it("shows queue depths from BullMQ, the runner's metrics, recent commands and the log tail", async () => {
    const text = await terminal.screenWhere(
      "queue depths, metrics and the log",
      (s) => /media\s+1\s+0\s+1\s+0\s+0/.test(s) && s.includes("commands error 1 · ok 1") && s.includes("session open"),
    );
    expect(text).toMatch(/ai\s+0\s+0\s+0\s+0\s+0/);
    expect(text).toContain("up · runner-tui-test"); // the instance label of the runner scraped
    expect(text).toMatch(/bot 0\s+ping\s+ok\s+12\.3 ms/);
    expect(text).toMatch(/bot 1\s+sticker\s+error\s+250\.0 ms/);
    expect(text).toContain("a line that is not JSON");
    expect(text).toMatch(/INFO\s+\S+\/bot 0 session open/);
    // `WHATSDEX_SAVE_TUI_SCREEN=1 npm test -- session-runner/test/tui.test.ts` refreshes the docs' capture.
    if (process.env.WHATSDEX_SAVE_TUI_SCREEN) writeFileSync(docsScreen, text);
  });

  it("follows Firestore and the log file live", async () => {
    await writers[1]?.write("open");
    logLine(0, { command: "menu", outcome: "ok", ms: 3.4 }, COMMAND_HANDLED);
    await terminal.screenWhere(
      "bot 1 open and the new command",
      (s) => /bot 1 .*open/.test(s) && /menu\s+ok\s+3\.4 ms/.test(s),
    );
    // Truncated (a new dev run): read again from the start.
    truncateSync(logFile, 0);
    appendFileSync(logFile, "after the truncation\n");
    await terminal.screenWhere(
      "the truncated log",
      (s) => s.includes("(log file truncated)") && s.includes("after the truncation"),
    );
    // Rotated: the old file moved aside, a new one in its place.
    renameSync(logFile, `${logFile}.1`);
    writeFileSync(logFile, "in the new file\n");
    await terminal.screenWhere(
      "the rotated log",
      (s) => s.includes("(log file replaced: reading the new one)") && s.includes("in the new file"),
    );
  });

  it("selects a bot with j, scopes the log to it with f, and shows its pairing code", async () => {
    await writers[1]?.write("pairing", {
      linking: { qr: null, pairingCode: { code: "WXYZ6789", expiresAt: new Date(Date.now() + 60_000) } },
    });
    terminal.keys("j");
    const selected = await terminal.screenWhere("bot 1's pairing code", (s) => s.includes("Pairing code WXYZ-6789"));
    expect(selected).toMatch(/› \S+\s+bot 1/);
    terminal.keys("f", "f");
    const scoped = await terminal.screenWhere("the log scoped to bot 1", (s) =>
      s.includes("Recent commands  bot bot 1"),
    );
    expect(scoped).toMatch(/bot 1\s+sticker\s+error/);
    expect(scoped).not.toMatch(/bot 0\s+ping/);
    // Esc clears the filter; `/` types one, Enter keeps it. (A key at a time: ESC followed at once
    // by another key reads as Alt+key in any terminal program.)
    terminal.keys("Escape");
    await terminal.screenWhere("the filter cleared", (s) => s.includes("f log scope: all"));
    terminal.keys("/");
    await terminal.screenWhere("the filter prompt", (s) => s.includes("filter: "));
    terminal.keys("session");
    await terminal.screenWhere("the filter typed", (s) => s.includes("filter: session"));
    terminal.keys("Enter");
    const filtered = await terminal.screenWhere("the log filtered by text", (s) =>
      s.includes('Log  all bots · "session"'),
    );
    expect(filtered).toMatch(/bot 0 session open/);
    expect(filtered).not.toContain(COMMAND_HANDLED);
    expect(filtered).toContain("No command matches the filter.");
  });

  it("quits on q, closing everything so that the process ends by itself", async () => {
    terminal.keys("q");
    expect(await terminal.exited()).toBe(0);
    // Nothing on stderr but the cursor being shown again.
    expect(terminal.stderr().replaceAll("\u001b[?25h", "")).toBe("");
  });
});

describe("npm run tui, with nothing to talk to", { timeout: 45_000 }, () => {
  let down: Terminal | undefined;
  afterAll(() => down?.stop());

  it("says which service is down and what to do, and quits on Ctrl-C", async () => {
    const [firestorePort, redisPort, runnerPort] = await closedPorts(3);
    down = new Terminal(
      tuiCommand,
      tuiEnv({
        FIRESTORE_EMULATOR_HOST: `127.0.0.1:${firestorePort}`,
        GCLOUD_PROJECT: requireEnv("GCLOUD_PROJECT"),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        RUNNER_URL: `http://127.0.0.1:${runnerPort}`,
        WHATSDEX_LOG_FILE: join(dir, "not-there.log"),
      }),
    );
    const text = await down.screenWhere(
      "every source reported down",
      (s) =>
        s.includes("Firestore emulator not answering") &&
        s.includes("Redis unreachable") &&
        s.includes("down: ECONNREFUSED"),
    );
    expect(text).toContain(`Firestore emulator not answering at 127.0.0.1:${firestorePort} (ECONNREFUSED)`);
    expect(text).toContain(`redis://127.0.0.1:${redisPort}`);
    expect(text).toContain("Redis unreachable: connect ECONNREFUSED");
    expect(text).toContain(`No log file at ${join(dir, "not-there.log")}`);
    expect(text).not.toMatch(/\bat .+:\d+:\d+\)/); // no stack trace
    down.keys("C-c");
    expect(await down.exited()).toBe(0);
  });
});

describe("npm run tui's chat pane", { timeout: 45_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  let chat: Terminal | undefined;
  afterAll(async () => {
    chat?.stop();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("talks to the selected simulator bot as a WhatsApp user, through the phone API", async () => {
    const bot = await linkedBot(firebase.firestore, {
      commands: new CommandRegistry(infoCommands),
      defaultSpeaker: { lid: "200000000031@lid", pn: "6281200000031@s.whatsapp.net", name: "Tester" },
      cleanups,
    });
    const phones = await startSimulatorPhones(bot.whatsapp, {
      host: "127.0.0.1",
      port: 0,
      logger: pino({ level: "silent" }),
    });
    cleanups.push(() => phones.close());
    chat = new Terminal(
      tuiCommand,
      tuiEnv({
        FIRESTORE_EMULATOR_HOST: requireEnv("FIRESTORE_EMULATOR_HOST"),
        GCLOUD_PROJECT: requireEnv("GCLOUD_PROJECT"),
        REDIS_URL: requireEnv("REDIS_URL"),
        RUNNER_URL: runner.url,
        WHATSDEX_LOG_FILE: logFile,
        WHATSDEX_TUI_TENANTS: bot.tenantId,
        WHATSDEX_PHONES_URL: phones.url,
      }),
    );
    // The bot document names the linked number once the session is open: the pane reaches it by that.
    await chat.screenWhere("the chat pane ready for the bot", (s) => s.includes("with +6281234567890"));
    // One key at a time, each seen before the next: keys sent together reach ink as one chunk.
    chat.keys("Tab");
    await chat.screenWhere("the chat pane focused", (s) => !s.includes("Tab to type"));
    chat.keys("-l", ".ping");
    await chat.screenWhere("the typed command", (s) => s.includes("> .ping"));
    chat.keys("Enter");
    const text = await chat.screenWhere("the bot's answer in the chat pane", (s) => /bot Pong!/.test(s));
    expect(text).toMatch(/you \.ping/);
    expect(bot.socket.sent.length).toBe(1);
    // Tab gives the keys back to the dashboard: q quits.
    chat.keys("Tab");
    await chat.screenWhere("the chat pane unfocused", (s) => s.includes("Tab to type"));
    chat.keys("q");
    expect(await chat.exited()).toBe(0);
  });
});

/** Ports nothing listens on: bound by the OS, then let go. */
async function closedPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      return server;
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === "object" && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Reads the QR block (lines of █ ▀ ▄ and spaces in the right-hand pane) back into pixels and decodes it. */
function decodeQr(text: string): string | undefined {
  const rows = text
    .split("\n")
    .map((line) => /│ ?([█▀▄ ]{20,}?) *│$/.exec(line)?.[1])
    .filter((row): row is string => row?.includes("█") === true);
  const scale = 4;
  const quiet = 4;
  const width = (Math.max(...rows.map((row) => row.length)) + 2 * quiet) * scale;
  const height = (rows.length * 2 + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(width * height * 4).fill(255);
  rows.forEach((row, y) => {
    [...row].forEach((char, x) => {
      // The terminal draws light modules: █ both halves, ▀ the top one, ▄ the bottom one.
      const light = [char === "█" || char === "▀", char === "█" || char === "▄"];
      light.forEach((isLight, half) => {
        if (isLight) return;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const offset = (((y * 2 + half + quiet) * scale + dy) * width + (x + quiet) * scale + dx) * 4;
            pixels.fill(0, offset, offset + 3);
          }
        }
      });
    });
  });
  return jsqr.default(pixels, width, height)?.data;
}
