import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linkingCodesSchema, linkingPath } from "@whatsdex/core";
import { devEndpointsSchema, type ReceivedWebhook, readDocument, startWebhookReceiver } from "@whatsdex/devtools/dev";
import { PhoneClient, type PhoneEvent } from "@whatsdex/devtools/phone-client";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ROOT } from "../lib/prerequisites.ts";
import { commandOf, isAlive, processTree, residentBytes } from "../lib/process-tree.ts";
import { pollUntil } from "../lib/wait.ts";

/**
 * The README's run command, end to end: `npm run dev` from nothing (its own emulators, Redis and
 * free ports, so it runs beside a developer's stack and inside `npm test`), then what a newcomer
 * does with what it prints — create a bot over HTTP with the printed API key, link it, and talk to
 * it as a WhatsApp user — then Ctrl-C, after which nothing it started may be left running.
 */

const home = mkdtempSync(join(tmpdir(), "whatsdex-dev-e2e-"));
let dev: ChildProcess | undefined;
afterAll(async () => {
  // Only if the test failed midway: stop what it started, by its process group.
  if (dev?.pid !== undefined && dev.exitCode === null && dev.signalCode === null) {
    process.kill(-dev.pid, "SIGINT");
    await once(dev, "exit");
  }
  rmSync(home, { recursive: true, force: true });
});

const printed = (output: string, label: string) => new RegExp(`^  ${label}\\s+(\\S+)`, "m").exec(output)?.[1];

describe("npm run dev", () => {
  it("brings the platform up, answers .ping and .sticker from a bot made over HTTP, tells a webhook, sells a plan, and stops cleanly", async () => {
    // The test's own emulators and Redis are not for this stack: it finds or starts its own.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !/^(FIRESTORE_EMULATOR_HOST|FIREBASE_|GCLOUD_PROJECT|REDIS_URL|WHATSDEX_|NODE_ENV$)/.test(name),
      ),
    );
    const started = performance.now();
    dev = spawn("npm", ["run", "dev", "--", "--fresh", "--free-ports", "--home", home], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(dev, "exit");
    let output = "";
    dev.stdout?.on("data", (chunk) => (output += chunk));
    dev.stderr?.on("data", (chunk) => (output += chunk));
    await pollUntil("npm run dev to be ready", async () => /WhatsDeX ready in/.test(output), {
      timeoutMs: 180_000,
      gaveUp: exited,
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${output.slice(-4_000)}`);
    });
    const readySeconds = (performance.now() - started) / 1000;

    // The demo bot runs the production socket against the local WhatsApp server (ADR 26).
    expect(output).toMatch(/^ {2}demo bot\s+\S+, on Baileys, linked to the phone \+\d+ of the local WhatsApp server$/m);
    const apiUrl = printed(output, "API") ?? "";
    const apiKey = printed(output, "API key") ?? "";
    const tenantId = printed(output, "demo tenant") ?? "";
    expect(apiKey).toMatch(/^wdx_/);
    const endpoints = devEndpointsSchema.parse(JSON.parse(readFileSync(join(home, "endpoints.json"), "utf8")));
    expect(endpoints.apiUrl).toBe(apiUrl);

    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { "x-api-key": apiKey, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    // A Baileys bot: the production socket, linked to a phone of npm run dev's local WhatsApp server.
    const created = await api("POST", `/tenants/${tenantId}/bots`, { name: "End-to-end bot", transport: "baileys" });
    expect(created.status).toBe(201);
    const botId = z.object({ id: z.string() }).parse(created.body).id;
    expect((await api("POST", `/tenants/${tenantId}/bots/${botId}/connect`, { method: "qr" })).status).toBe(202);

    // The phone scans the QR code the dashboard shows (the owner-readable linking document).
    const linkingDoc = linkingPath(tenantId, botId);
    let qr = "";
    await pollUntil(
      "the new bot's QR code",
      async () => {
        const linking = await readDocument(endpoints.firestoreHost, endpoints.projectId, linkingDoc);
        qr = linkingCodesSchema.safeParse(linking).data?.qr?.code ?? "";
        return qr !== "";
      },
      { timeoutMs: 30_000 },
    );
    const phones = new PhoneClient(endpoints.phonesUrl);
    await phones.link(qr, "15550100009");
    const state = z.object({ status: z.object({ state: z.string() }) });
    await pollUntil(
      "the bot to be connected",
      async () => state.parse((await api("GET", `/tenants/${tenantId}/bots/${botId}`)).body).status.state === "open",
      { timeoutMs: 30_000 },
    );

    // A tenant's own server: a webhook registered with the printed API key, every request verified.
    const hooks: ReceivedWebhook[] = [];
    const receiver = await startWebhookReceiver({ onEvent: (event) => hooks.push(event) });
    const registered = await api("POST", `/tenants/${tenantId}/webhooks`, {
      url: receiver.url,
      events: ["message.received"],
    });
    expect(registered.status).toBe(201);
    receiver.setSecret(z.object({ secret: z.string() }).parse(registered.body).secret);

    const events: PhoneEvent[] = [];
    const stopEvents = await phones.events((event) => events.push(event));
    const user = { number: "15550100042", name: "Newcomer" };
    await phones.send({ to: "15550100009", from: user, text: ".ping" });
    await pollUntil("the pong", async () => events.some((e) => /pong/i.test(e.text ?? "")), { timeoutMs: 30_000 });
    const received = z.object({
      botId: z.string(),
      from: z.object({ pn: z.string().nullable(), name: z.string().nullable() }),
      content: z.object({ type: z.literal("text"), text: z.string() }),
    });
    await pollUntil(
      "a signed message.received for .ping",
      async () =>
        hooks.some((hook) => {
          const data = received.safeParse(hook.data);
          return hook.type === "message.received" && data.success && data.data.content.text === ".ping";
        }),
      { timeoutMs: 30_000 },
    );
    const ping = hooks.map((hook) => received.parse(hook.data)).find((data) => data.content.text === ".ping");
    expect(ping).toMatchObject({ botId, from: { pn: "15550100042@s.whatsapp.net", name: "Newcomer" } });
    await receiver.close();
    // npm run dev's own receiver (the demo tenant's endpoint, every event) printed the flow as it went.
    expect(output).toMatch(/\[webhook\] bot\.status .*state open ✓ signed/);

    // Billing: the owner buys Enterprise on the local Stripe's checkout page; its signed events reach
    // the stripeWebhook function, which changes the plan. An unsigned POST there changes nothing.
    const idToken = printed(output, "ID token") ?? "";
    const checkout = await fetch(`${apiUrl}/tenants/${tenantId}/billing/checkout`, {
      method: "POST",
      headers: { authorization: `Bearer ${idToken}`, "content-type": "application/json" },
      body: JSON.stringify({ plan: "enterprise" }),
    });
    expect(checkout.status).toBe(200);
    const checkoutUrl = z.object({ url: z.string() }).parse(await checkout.json()).url;
    const page = await (await fetch(checkoutUrl)).text();
    const pay = /<form method="post" action="([^"]+)"/.exec(page)?.[1] ?? "";
    expect((await fetch(new URL(pay, checkoutUrl), { method: "POST", redirect: "manual" })).status).toBe(303);
    const plan = async () =>
      z.object({ plan: z.string() }).parse((await api("GET", `/tenants/${tenantId}/billing`)).body).plan;
    await pollUntil("the plan bought on the checkout page", async () => (await plan()) === "enterprise", {
      timeoutMs: 30_000,
    });
    const stripeWebhook = apiUrl.replace(/\/api\/v1$/, "/stripeWebhook");
    const unsigned = await fetch(stripeWebhook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "evt_forged", type: "customer.subscription.deleted", data: { object: {} } }),
    });
    expect(unsigned.status).toBe(400);
    expect(await plan()).toBe("enterprise");

    const photo = readFileSync(join(import.meta.dirname, "fixtures", "photo.jpg"));
    await phones.send({
      to: "15550100009",
      from: user,
      text: ".sticker",
      image: { data: photo.toString("base64"), mimetype: "image/jpeg" },
    });
    let stickerUrl = "";
    await pollUntil(
      "the sticker",
      async () => {
        stickerUrl = events.find((e) => e.kind === "sticker" && e.number === user.number)?.mediaUrl ?? "";
        return stickerUrl !== "";
      },
      { timeoutMs: 60_000 },
    );
    const webp = await phones.media(stickerUrl);
    expect(webp.subarray(0, 4).toString("latin1")).toBe("RIFF");
    expect(webp.subarray(8, 12).toString("latin1")).toBe("WEBP");
    stopEvents();

    // Ctrl-C: everything it started stops, and nothing else is left.
    const pid = dev.pid ?? 0;
    const tree = processTree(pid);
    const memory = tree.reduce((sum, p) => sum + residentBytes(p), 0);
    console.log(
      `npm run dev: ready in ${readySeconds.toFixed(1)} s (it reports ${/ready in ([\d.]+) s/.exec(output)?.[1]} s); ` +
        `${tree.length} processes, ${(memory / 2 ** 20).toFixed(0)} MiB resident`,
    );
    // As a terminal's Ctrl-C does: SIGINT to the whole foreground group (npm, its shell, scripts/dev.ts).
    process.kill(-pid, "SIGINT");
    const [code, signal] = await exited;
    // npm itself dies of the signal; scripts/dev.ts stops its children and exits 0.
    expect([code, signal]).toEqual([null, "SIGINT"]);
    const left = tree.filter(isAlive);
    expect(left.map((p) => `${p} ${commandOf(p)}`)).toEqual([]);
    expect(output).toContain("stopping…");
    expect(output).not.toMatch(/exited with [1-9]/);
  });
});
