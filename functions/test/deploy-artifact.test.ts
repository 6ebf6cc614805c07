import { execFile } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";

const exec = promisify(execFile);
const functionsDir = fileURLToPath(new URL("..", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "whatsdex-functions-artifact-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/**
 * `firebase deploy` uploads functions/ alone and Cloud Build installs its production dependencies
 * from the registry. This does the same in a temporary folder, outside the workspace, and imports
 * the entry: a bundle that still needed a workspace link, or an undeclared package, fails here.
 */
describe("functions deploy artifact", () => {
  it("installs from package.json alone and exports every function", { timeout: 240_000 }, async () => {
    const entry = join(functionsDir, "lib", "index.js");
    expect(existsSync(entry), "functions/lib/index.js is missing: `npm test` builds it first").toBe(true);
    cpSync(join(functionsDir, "package.json"), join(workDir, "package.json"));
    cpSync(join(functionsDir, "lib"), join(workDir, "lib"), { recursive: true });

    await exec("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
      cwd: workDir,
      timeout: 220_000,
    });
    const modules = join(workDir, "node_modules");
    const links = readdirSync(modules).filter((name) => lstatSync(join(modules, name)).isSymbolicLink());
    expect(links).toEqual([]);
    expect(existsSync(join(modules, "@whatsdex"))).toBe(false);

    // Import the entry as the Functions runtime does, recording every module it loads (ESM and CJS).
    const script = [
      'import { registerHooks } from "node:module";',
      "const loaded = [];",
      "registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });",
      "const started = performance.now();",
      "const entry = await import(process.argv[1]);",
      "const importMs = performance.now() - started;",
      "console.log(JSON.stringify({ exports: Object.keys(entry).sort(), importMs, loaded }));",
    ].join("\n");
    const entryUrl = pathToFileURL(join(workDir, "lib", "index.js")).href;
    const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script, entryUrl], {
      cwd: workDir,
      timeout: 60_000,
    });
    const result = z
      .object({ exports: z.array(z.string()), importMs: z.number(), loaded: z.array(z.string()) })
      .parse(JSON.parse(stdout));
    expect(result.exports).toEqual([
      "api",
      "billingGraceSweep",
      "onBotDeleted",
      "onTenantClosing",
      "stripeWebhook",
      "sweepTenantClosings",
    ]);
    // Cold start: the API must not pull in the WhatsApp client, image processing, Stripe or Gemini.
    const heavy = result.loaded.filter((url) => /node_modules\/(baileys|sharp|@img|stripe|@google\/genai)\//.test(url));
    expect(heavy).toEqual([]);
    console.log(`functions entry: ${result.loaded.length} modules, imported in ${result.importMs.toFixed(0)} ms`);
  });
});
