/**
 * `npm run tui`: a terminal dashboard for debugging the platform while `npm run dev` runs.
 *
 * It reads what the services expose and nothing else: the bots, their leases, outboxes and linking
 * codes from Firestore (live listeners), BullMQ's queue depths from Redis, the runner's Prometheus
 * `/metrics`, and the runner's JSON log file for recent commands and a filterable log tail.
 *
 * This file is the composition root: it parses the options (options.ts), builds the Firestore app,
 * the Redis connection and the data sources (dashboard.ts), renders the ink App (app.ts), and on
 * `q` or Ctrl-C closes every listener, timer and connection so that the process ends by itself with
 * the terminal restored. React is written without JSX (see h.ts), so Node runs this file as it is.
 *
 * Data, no ink: fleet-watch.ts (Firestore listeners), queue-depths.ts (BullMQ), runner-metrics.ts,
 * log-tail.ts and log-line.ts, gathered by dashboard.ts. Panes: app.ts lays out the *-pane.ts files,
 * status-bar.ts and key-help.ts; chat-slot.ts is where a chat pane plugs in.
 */
import { ConfigError, createFirebase } from "@whatsdex/core";
import { queueNames } from "@whatsdex/core/jobs";
import { render } from "ink";
import { Redis } from "ioredis";
import { PhoneClient } from "../phone-client.ts";
import { App } from "./app.ts";
import { chatPane } from "./chat-pane.ts";
import { ChatStore } from "./chat-store.ts";
import { startDashboard } from "./dashboard.ts";
import { h } from "./h.ts";
import { parseOptions, usage } from "./options.ts";

/** The phone the chat pane speaks as (npm run chat's default is …02). */
const CHAT_NUMBER = "15550100004";

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof TypeError ? error.message : String(error);
  fail(`${message}\n(npm run tui -- --help lists the options)`);
}
if (parsed.kind === "help") {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const { options } = parsed;
if (!process.stdin.isTTY || !process.stdout.isTTY) {
  fail("npm run tui draws in a terminal: run it in one (not with its input or output redirected).");
}

// The Admin SDK finds the emulator through the environment only; no credentials are looked for.
process.env.FIRESTORE_EMULATOR_HOST = options.firestoreHost;
process.env.METADATA_SERVER_DETECTION ??= "none";
const firebase = createFirebase({ projectId: options.projectId, name: "tui" });
// Fail fast while Redis is down (the queue pane says so) instead of queueing commands for ever.
const redis = new Redis(options.redisUrl, {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  disconnectTimeout: 200,
  retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
});

const dashboard = startDashboard({
  db: firebase.firestore,
  redis,
  fetch: globalThis.fetch,
  projectId: options.projectId,
  firestoreHost: options.firestoreHost,
  redisUrl: options.redisUrl,
  queuePrefix: options.queuePrefix,
  queues: Object.values(queueNames),
  runnerUrl: options.runnerUrl,
  logFile: options.logFile,
  tenants: options.tenants,
});

// The chat pane, when the phone API is known (npm run dev's endpoints.json says where).
const chat = options.phonesUrl ? new ChatStore(new PhoneClient(options.phonesUrl), CHAT_NUMBER) : undefined;
void chat?.start();

const app = render(
  h(App, {
    dashboard,
    queuePrefix: options.queuePrefix,
    tenants: options.tenants,
    chat: chat ? chatPane(chat) : undefined,
  }),
  {
    exitOnCtrlC: true,
    alternateScreen: true,
    // Ink would fall back to printing only the last frame when it sees CI=true; this is a terminal.
    interactive: true,
  },
);

// A `kill` ends the TUI as `q` does: the terminal is restored and everything closed.
process.once("SIGTERM", () => app.unmount());

try {
  await app.waitUntilExit();
} finally {
  chat?.close();
  await dashboard.close();
  redis.disconnect();
  await firebase.close();
}
