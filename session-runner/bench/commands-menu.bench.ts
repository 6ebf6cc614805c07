import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { commandBench } from "./support/command-bench.ts";

/** `.menu` (the longest info reply, built from the registry per call) against a bare handler sending the same text. */
export const suite: BenchSuite = {
  name: "commands-menu",
  description: ".menu answered in one process on the simulator transport",
  baseline: "bare handler",
  // 0.61x when first measured (2026-12-01); the same code measured 0.36-0.43x on 2026-12-03's
  // machine (docs/benchmarks): the floor catches a pipeline that halves, not a machine that differs.
  minRatio: { "command pipeline": 0.35 },
  async setup() {
    const { socket, engine, message } = await commandBench();
    await engine.handle(message(".menu"));
    const menu = socket.sent[0]?.message.message?.extendedTextMessage?.text ?? "";
    if (!menu.startsWith("*Commands*")) throw new Error("the menu did not come out as expected");
    return {
      tasks: {
        "bare handler": async () => {
          const raw = message(".menu");
          if (raw.message?.conversation === ".menu") {
            await socket.sendMessage(raw.key.remoteJid ?? "", { text: menu }, { quoted: raw });
          }
        },
        "command pipeline": async () => {
          await engine.handle(message(".menu"));
        },
      },
    };
  },
};
