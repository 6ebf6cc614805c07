import { testFirebase } from "@whatsdex/core/testing";
import type { WAMessage } from "baileys";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { sessionMetrics } from "../src/metrics/session-metrics.ts";
import { offlineEngine } from "./support/offline-engine.ts";

const firebase = testFirebase();
afterAll(() => firebase.close());

/** The number of time series a metric family has in the registry. */
async function seriesOf(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.length ?? 0;
}

describe("command metrics", () => {
  it("count every unregistered name under one label, so typed names cannot grow /metrics", async () => {
    const registry = new Registry();
    const { events } = sessionMetrics(registry);
    const { engine } = offlineEngine(firebase.firestore, new CommandRegistry(infoCommands), {
      ...(events.command ? { onOutcome: events.command } : {}),
      // Refusals for rate limits would hide the unknown-name path: no limits here.
      limits: { user: { capacity: 1e9, refillPerSecond: 1 }, chat: { capacity: 1e9, refillPerSecond: 1 } },
    });
    const message = (text: string, id: string): WAMessage => ({
      key: { remoteJid: "200000000009@lid", id, fromMe: false },
      message: { conversation: text },
    });
    expect(await engine.handle(message(".ping", "P1"))).toBe("ok");
    expect(await engine.handle(message(".a0000", "U0"))).toBe("unknown");
    const afterOne = {
      total: await seriesOf(registry, "commands_total"),
      seconds: await seriesOf(registry, "command_duration_seconds"),
    };
    for (let i = 1; i <= 1_000; i++) {
      await engine.handle(message(`.a${String(i).padStart(4, "0")}`, `U${i}`));
    }
    expect(await seriesOf(registry, "commands_total")).toBe(afterOne.total);
    expect(await seriesOf(registry, "command_duration_seconds")).toBe(afterOne.seconds);
    const text = await registry.metrics();
    expect(text).toContain('commands_total{command="unknown",outcome="unknown"} 1001');
    expect(text).not.toContain("a0001");
  });
});
