import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { commandBench } from "./support/command-bench.ts";

/**
 * `.ping` through the whole command pipeline (normalise, dedupe, parse, mode/enabled/chat/access
 * checks, rate limits, cooldown, span, catalog) against a bare handler that checks the text and
 * replies, both sending through the same simulated socket (Baileys' generateWAMessage).
 */
export const suite: BenchSuite = {
  name: "commands-ping",
  description: ".ping answered in one process on the simulator transport",
  baseline: "bare handler",
  // 0.61x when first measured (2026-12-01); the same code measured 0.36-0.43x on 2026-12-03's
  // machine (docs/benchmarks): the floor catches a pipeline that halves, not a machine that differs.
  minRatio: { "command pipeline": 0.35 },
  async setup() {
    const { socket, engine, message } = await commandBench();
    return {
      tasks: {
        "bare handler": async () => {
          const raw = message(".ping");
          if (raw.message?.conversation === ".ping") {
            await socket.sendMessage(raw.key.remoteJid ?? "", { text: "Pong! 0 ms" }, { quoted: raw });
          }
        },
        "command pipeline": async () => {
          await engine.handle(message(".ping"));
        },
      },
      facts: () => ({ repliesSent: socket.sent.length }),
    };
  },
};
