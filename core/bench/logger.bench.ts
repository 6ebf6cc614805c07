import { pino } from "pino";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { createLogger } from "../src/index.ts";

const LINES = 1_000;
const sink = () => pino.destination({ dest: "/dev/null", sync: true });

const plain = pino({}, sink());
const ours = createLogger({ level: "info", service: "bench", version: "0", projectId: "demo-x", destination: sink() });
// The alternative we replaced: pino's own path-based redaction covering the same keys one level deep.
const redactKeys = ["authorization", "cookie", "password", "secret", "token", "apiKey", "privateKey", "creds"];
const phoneKeys = ["phone", "phoneNumber", "pn", "msisdn", "jid", "remoteJid", "participant", "from", "to"];
const pinoRedact = pino(
  { redact: { paths: [...redactKeys, ...phoneKeys].flatMap((k) => [k, `*.${k}`]), censor: "[redacted]" } },
  sink(),
);
const child = ours.child({ tenantId: "t-1", botId: "b-1", requestId: "r-1" });

const fields = {
  command: "sticker",
  durationMs: 42,
  contact: { phone: "+6281234567890", jid: "6281234567890@s.whatsapp.net", lid: "123456789012345@lid" },
  apiKey: "wdx_live_abcdef",
};

function lines(log: pino.Logger, withFields: boolean): void {
  for (let i = 0; i < LINES; i++) {
    if (withFields) log.info(fields, "command answered");
    else log.info("command answered");
  }
}

/** What redaction, phone masking, Cloud Logging fields and the trace mixin cost over bare pino. */
export const suite: BenchSuite = {
  name: "logger",
  description: `${LINES} info lines to /dev/null per iteration`,
  baseline: "pino, message only",
  setup: async () => ({
    tasks: {
      "pino, message only": () => lines(plain, false),
      "pino, with fields": () => lines(plain, true),
      "pino redact paths, with fields": () => lines(pinoRedact, true),
      "whatsdex logger, message only": () => lines(ours, false),
      "whatsdex logger, with fields (redacted)": () => lines(ours, true),
      "whatsdex child logger, with fields (redacted)": () => lines(child, true),
    },
  }),
  // Measured 0.69x and 0.32x (docs/benchmarks/logger.json); the floors leave room for noise.
  minRatio: {
    "whatsdex logger, message only": 0.5,
    "whatsdex logger, with fields (redacted)": 0.22,
  },
};
