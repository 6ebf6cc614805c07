import { readFileSync } from "node:fs";
import { declaredSettings, documentedSettings } from "@whatsdex/core/testing";
import { describe, expect, it } from "vitest";
import { runnerEnvSchema } from "../src/config.ts";

const doc = readFileSync(new URL("../../docs/settings.md", import.meta.url), "utf8");

describe("docs/settings.md", () => {
  it("lists every variable the session-runner parses, with its default, and no other", () => {
    const documented = documentedSettings(doc, "session-runner (Cloud Run)");
    const declared = declaredSettings(runnerEnvSchema);
    expect([...documented.keys()].sort()).toEqual([...declared.keys()].sort());
    for (const [name, defaultValue] of declared) {
      if (defaultValue !== undefined) expect(documented.get(name), name).toBe(defaultValue);
    }
  });
});
