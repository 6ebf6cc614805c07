import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../lib/prerequisites.ts";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const functionsIndex = readFileSync(join(ROOT, "functions", "src", "index.ts"), "utf8");
const exported = [...functionsIndex.matchAll(/^export const (\w+)/gm)].map((match) => match[1]);

/** The README is the landing page: it may not promise what is not built, nor call a need optional. */
describe("README", () => {
  it("claims a Stripe webhook only once functions/ deploys one", () => {
    const claims = /Stripe\s+webhook/i.test(readme.replace(/not built yet[^.]*\./gi, ""));
    expect(claims).toBe(exported.includes("stripeWebhook"));
  });

  it("lists Redis as required: npm test and npm run dev start BullMQ workers on it", () => {
    const redisLine = readme.split("\n").find((line) => line.startsWith("- Redis"));
    expect(redisLine).toBeDefined();
    expect(redisLine).not.toMatch(/optional/i);
    expect(redisLine).toMatch(/required/i);
  });
});
