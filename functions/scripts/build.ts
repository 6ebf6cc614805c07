/**
 * Bundles functions/src into lib/index.js for the Functions emulator and `firebase deploy`. Our
 * workspace packages (@whatsdex/*) are compiled in, because functions deploy from this folder alone;
 * every other package stays an import that Cloud Build installs from package.json. The build fails
 * if the bundle imports a package that package.json does not list, since that deploy would crash at
 * cold start.
 */
import { readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { type BuildOptions, build, context as esbuildContext, type Plugin } from "esbuild";

const root = new URL("..", import.meta.url);
const pkg: { dependencies?: Record<string, string> } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const declared = new Set(Object.keys(pkg.dependencies ?? {}));
const builtins = new Set(builtinModules);

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

const undeclared = new Set<string>();
const externalizeDependencies: Plugin = {
  name: "externalize-dependencies",
  setup(plugin) {
    plugin.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || builtins.has(args.path)) return { external: true };
      const name = packageName(args.path);
      if (name.startsWith("@whatsdex/")) return undefined;
      if (!declared.has(name)) undeclared.add(`${name} (imported by ${args.importer})`);
      return { external: true };
    });
  },
};

const options: BuildOptions = {
  entryPoints: [new URL("src/index.ts", root).pathname],
  outfile: new URL("lib/index.js", root).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  sourcemap: true,
  conditions: ["@whatsdex/source"],
  plugins: [externalizeDependencies],
  logLevel: "warning",
};

function reportUndeclared(): boolean {
  if (undeclared.size === 0) return true;
  console.error(
    `functions/lib imports packages that functions/package.json does not list in "dependencies":\n` +
      [...undeclared].map((entry) => `  - ${entry}`).join("\n") +
      "\nAdd them (same version as the workspace that uses them) so that the deployed function can load.",
  );
  undeclared.clear();
  return false;
}

rmSync(new URL("lib", root), { recursive: true, force: true });
if (process.argv.includes("--watch")) {
  // `npm run dev`: rebuild on every change; the Functions emulator reloads lib/ by itself.
  const checkAfterEachBuild: Plugin = {
    name: "check-undeclared",
    setup: (b) => b.onEnd(() => void reportUndeclared()),
  };
  const context = await esbuildContext({ ...options, plugins: [externalizeDependencies, checkAfterEachBuild] });
  await context.watch();
} else {
  await build(options);
  if (!reportUndeclared()) process.exit(1);
}
