import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ROOT } from "../lib/prerequisites.ts";

/** What only the dev tools may use: terminal UI, QR reading, the simulated phones' client, the local WhatsApp server. */
const devOnly = ["ink", "react", "jsqr", "@whatsdex/devtools", "@whatsdex/local-whatsapp"];
/** Of those, what the runner's tests use (a devDependency, never in the image, which omits dev). */
const runnerTestOnly = ["@whatsdex/local-whatsapp"];
const productionSources = ["core/src", "functions/src", "session-runner/src"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path.endsWith("/testing") ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const importsOf = (source: string) =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\bfrom\s+"([^"]+)"/g)].map((m) => m[1] ?? "");

const packageJson = z.object({
  dependencies: z.record(z.string(), z.string()).default({}),
  devDependencies: z.record(z.string(), z.string()).default({}),
});

describe("package boundaries", () => {
  it("production sources (test helpers aside) import no dev tool and no other package by relative path", () => {
    const offending: string[] = [];
    for (const dir of productionSources) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        for (const specifier of importsOf(readFileSync(file, "utf8"))) {
          const devTool = devOnly.some((name) => specifier === name || specifier.startsWith(`${name}/`));
          const outside = specifier.startsWith(".") && !join(file, "..", specifier).startsWith(join(ROOT, dir));
          if (devTool || outside) offending.push(`${relative(ROOT, file)} imports ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it("the runner's package (and so its image) lists none of the dev tools' packages; its tests only the local WhatsApp server", () => {
    const manifest = packageJson.parse(JSON.parse(readFileSync(join(ROOT, "session-runner", "package.json"), "utf8")));
    expect(Object.keys(manifest.dependencies).filter((name) => devOnly.includes(name))).toEqual([]);
    const forTests = Object.keys(manifest.devDependencies).filter((name) => devOnly.includes(name));
    expect(forTests.filter((name) => !runnerTestOnly.includes(name))).toEqual([]);
  });
});
