import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importCycles } from "../lib/import-graph.ts";
import { ROOT } from "../lib/prerequisites.ts";

const sources = ["core/src", "functions/src", "session-runner/src", "devtools/src"].filter((dir) =>
  existsSync(join(ROOT, dir)),
);

describe("import graph", () => {
  it.each(sources)("%s has no import cycle (type-only imports included)", (dir) => {
    expect(importCycles(join(ROOT, dir))).toEqual([]);
  });

  it("finds a cycle where there is one", () => {
    expect(importCycles(join(ROOT, "scripts", "test", "fixtures", "import-cycle"))).toEqual([["a.ts", "b.ts"]]);
  });
});
