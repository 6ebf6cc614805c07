import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { setStringFields } from "./firestore-rest.ts";

/**
 * `npm run dev`'s demo tenant, made the way the dashboard makes one: an Auth emulator account
 * signed in with a password, then the public API (tenant, API key, a bot, connect). The
 * ids and the API key are kept in a state file so a restart finds them again; whatever the emulator
 * data no longer has (wiped, or `--fresh`) is made anew, so seeding twice never makes two of anything.
 */

export const DEMO_EMAIL = "owner@demo.whatsdex.test";
/** Local only: the Auth emulator's accounts are not real accounts. */
const DEMO_PASSWORD = "demo-password-local-only";
/** The number the demo bot's simulated phone links (555-01xx: reserved for fiction). */
export const DEMO_BOT_NUMBER = "15550100001";
export const DEMO_PLAN = "business";

const stateSchema = z.object({
  tenantId: z.string().optional(),
  apiKey: z.string().optional(),
  botId: z.string().optional(),
});
type State = z.output<typeof stateSchema>;

export interface DemoSeed {
  uid: string;
  email: string;
  idToken: string;
  tenantId: string;
  apiKey: string;
  botId: string;
  /** What was made this time (empty when everything was already there). */
  created: string[];
}

const session = z.object({ localId: z.string(), idToken: z.string() });
const withId = z.object({ id: z.string() });
const problem = z.object({ code: z.string().optional(), detail: z.string().optional(), title: z.string().optional() });

async function signIn(authHost: string): Promise<{ uid: string; idToken: string; created: boolean }> {
  const call = (method: string) =>
    fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=emulator`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: DEMO_EMAIL, password: DEMO_PASSWORD, returnSecureToken: true }),
    });
  let created = false;
  let response = await call("signInWithPassword");
  if (response.status === 400 && (await response.text()).includes("EMAIL_NOT_FOUND")) {
    response = await call("signUp");
    created = true;
  }
  if (!response.ok)
    throw new Error(`the Auth emulator refused the demo owner: ${response.status} ${await response.text()}`);
  const body = session.parse(await response.json());
  return { uid: body.localId, idToken: body.idToken, created };
}

export async function seedDemo(options: {
  apiUrl: string;
  authHost: string;
  firestoreHost: string;
  projectId: string;
  stateFile: string;
  /** The demo bot's transport: Baileys against the local WhatsApp server, or the simulator. */
  transport: "baileys" | "simulator";
}): Promise<DemoSeed> {
  const state: State = existsSync(options.stateFile)
    ? stateSchema.catch({}).parse(JSON.parse(readFileSync(options.stateFile, "utf8")))
    : {};
  const created: string[] = [];
  const owner = await signIn(options.authHost);
  if (owner.created) created.push("owner account");

  const api = async (
    method: string,
    path: string,
    credential: { token: string } | { apiKey: string },
    body?: unknown,
  ) => {
    const response = await fetch(`${options.apiUrl}${path}`, {
      method,
      headers: {
        ...("token" in credential
          ? { authorization: `Bearer ${credential.token}` }
          : { "x-api-key": credential.apiKey }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json: unknown = await response.json().catch(() => undefined);
    return { status: response.status, json };
  };
  const expect = (what: string, result: { status: number; json: unknown }, status: number) => {
    if (result.status === status) return result.json;
    const detail = problem.safeParse(result.json);
    const reason = detail.success ? (detail.data.detail ?? detail.data.title ?? detail.data.code) : undefined;
    throw new Error(`seeding the demo: ${what} answered ${result.status}${reason ? `: ${reason}` : ""}`);
  };
  const asOwner = { token: owner.idToken };

  let tenantId = state.tenantId;
  if (!tenantId || (await api("GET", `/tenants/${tenantId}`, asOwner)).status !== 200) {
    tenantId = withId.parse(
      expect("creating the tenant", await api("POST", "/tenants", asOwner, { name: "Demo shop" }), 201),
    ).id;
    created.push("tenant");
    state.apiKey = undefined;
    state.botId = undefined;
  }

  // The demo tenant starts on Business, set directly in the emulator (as support would), so that it
  // has room for bots of your own beside the demo bot; buying a plan through the local Stripe's
  // checkout page (printed by npm run dev) replaces it with a subscription.
  const tenant = z
    .object({ plan: z.string() })
    .parse(expect("reading the tenant", await api("GET", `/tenants/${tenantId}`, asOwner), 200));
  if (tenant.plan !== DEMO_PLAN) {
    await setStringFields(options.firestoreHost, options.projectId, `tenants/${tenantId}`, { plan: DEMO_PLAN });
  }

  let apiKey = state.apiKey;
  // Admin scope, so the printed key can also register webhooks as a tenant's server would (a key
  // from before webhooks existed cannot, and is replaced).
  if (!apiKey || (await api("GET", `/tenants/${tenantId}/webhooks`, { apiKey })).status !== 200) {
    const body = { name: "npm run dev", scopes: ["read", "bots", "messages", "admin"] };
    const made = expect("creating the API key", await api("POST", `/tenants/${tenantId}/api-keys`, asOwner, body), 201);
    apiKey = z.object({ key: z.string() }).parse(made).key;
    created.push("API key");
  }

  let botId = state.botId;
  const existing = botId ? await api("GET", `/tenants/${tenantId}/bots/${botId}`, { apiKey }) : undefined;
  const sameTransport = z.object({ transport: z.literal(options.transport) }).safeParse(existing?.json).success;
  // A demo bot of the other transport (npm run dev -- --simulator, or back) stays as it is, unused.
  if (!botId || existing?.status !== 200 || !sameTransport) {
    const body = {
      name: options.transport === "baileys" ? "Demo bot" : "Demo bot (simulator)",
      transport: options.transport,
    };
    botId = withId.parse(
      expect("creating the bot", await api("POST", `/tenants/${tenantId}/bots`, { apiKey }, body), 201),
    ).id;
    created.push("bot");
  }
  const bot = z
    .object({ desiredState: z.string() })
    .parse(expect("reading the bot", await api("GET", `/tenants/${tenantId}/bots/${botId}`, { apiKey }), 200));
  if (bot.desiredState !== "running") {
    expect(
      "connecting the bot",
      await api("POST", `/tenants/${tenantId}/bots/${botId}/connect`, { apiKey }, { method: "qr" }),
      202,
    );
  }

  writeFileSync(options.stateFile, `${JSON.stringify({ tenantId, apiKey, botId }, null, 2)}\n`, { mode: 0o600 });
  return { uid: owner.uid, email: DEMO_EMAIL, idToken: owner.idToken, tenantId, apiKey, botId, created };
}
