/**
 * The local WhatsApp server as a process (for `npm run dev` and the benchmarks):
 *
 *   node --conditions=@whatsdex/source local-whatsapp/src/main.ts [--host 127.0.0.1] [--port 0]
 *        [--phones-port 0] [--state <file>] [--log-level info]
 *
 * Prints one JSON line once it listens — `{"event":"ready","url","rootKey","phonesUrl",…}` — which
 * is what a runner needs (LOCAL_WHATSAPP_URL, LOCAL_WHATSAPP_ROOT_KEY) and where the phone API is.
 * With --state, accounts, linked devices and the phones' Signal stores are kept in that file, so
 * linked bots stay linked across restarts. SIGINT/SIGTERM save and stop.
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { startPhoneApi } from "./phone-api/phone-api.ts";
import { LocalWhatsApp } from "./server/local-whatsapp.ts";
import { loadState, saveStateOnChange } from "./state/state-file.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "phones-port": { type: "string", default: "0" },
    state: { type: "string" },
    "log-level": { type: "string", default: "info" },
  },
});
const port = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new Error(`--${name} must be a port number (0-65535), not "${value}"`);
  return n;
};

const logger = pino({ level: values["log-level"] });
const saved = values.state ? loadState(values.state) : undefined;
const server = await LocalWhatsApp.start({
  host: values.host,
  port: port("port", values.port),
  logger,
  ...(saved ? { state: saved } : {}),
});
const phones = await startPhoneApi(server, {
  host: values.host,
  port: port("phones-port", values["phones-port"]),
  logger,
});
const stopSaving = values.state ? saveStateOnChange(server, values.state, logger) : undefined;

process.stdout.write(
  `${JSON.stringify({
    event: "ready",
    url: server.url,
    rootKey: Buffer.from(server.rootPublicKey).toString("base64"),
    phonesUrl: phones.url,
    mediaOrigin: server.media.origin,
    mediaCaPem: server.media.caPem,
  })}\n`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void (async () => {
      await stopSaving?.();
      await phones.close();
      await server.close();
      process.exit(0);
    })();
  });
}
