import { fileURLToPath } from "node:url";
import { defaultServerConditions } from "vite";
import { defineProject } from "vitest/config";

/**
 * One Vitest project per workspace, all alike: tests under `test/`, workspace packages resolved to
 * their TypeScript sources (the `@whatsdex/source` condition), and a console.error fails the test.
 */
export function workspaceProject(name: string, options: { testTimeout?: number; groupOrder?: number } = {}) {
  // Vite's "module" condition would load dual packages' bundler-only ESM builds (extensionless
  // imports) into Node; resolve as Node itself does, plus our source condition.
  const conditions = ["@whatsdex/source", ...defaultServerConditions.filter((c) => c !== "module")];
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      setupFiles: [fileURLToPath(new URL("./vitest.setup.ts", import.meta.url))],
      globalSetup: [fileURLToPath(new URL("./vitest.storage.ts", import.meta.url))],
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 30_000,
      // Projects of a higher group run after the lower ones have finished (a whole stack's test alone).
      sequence: { groupOrder: options.groupOrder ?? 0 },
    },
  });
}
