import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";

const stateSchema = z.object({ webhookId: z.string(), secret: z.string().startsWith("whsec_") });
const created = z.object({ id: z.string(), secret: z.string().startsWith("whsec_") });
const endpoint = z.object({ url: z.string(), enabled: z.boolean() });

/**
 * `npm run dev`'s demo webhook: the demo tenant's endpoint at the local receiver, registered through
 * the API as a tenant's server would, for every event type. Its id and secret are kept beside the
 * demo's state; a restart on other ports moves the endpoint, a wiped emulator makes it anew.
 */
export async function seedDemoWebhook(options: {
  apiUrl: string;
  idToken: string;
  tenantId: string;
  url: string;
  stateFile: string;
}): Promise<{ webhookId: string; secret: string; created: boolean }> {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${options.apiUrl}/tenants/${options.tenantId}/webhooks${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.idToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as unknown };
  };
  const saved = existsSync(options.stateFile)
    ? stateSchema.safeParse(JSON.parse(readFileSync(options.stateFile, "utf8")))
    : undefined;
  if (saved?.success) {
    const current = await call("GET", `/${saved.data.webhookId}`);
    if (current.status === 200) {
      const { url, enabled } = endpoint.parse(current.json);
      if (url !== options.url || !enabled) {
        const patched = await call("PATCH", `/${saved.data.webhookId}`, { url: options.url, enabled: true });
        if (patched.status !== 200) throw new Error(`moving the demo webhook answered ${patched.status}`);
      }
      return { ...saved.data, created: false };
    }
  }
  const made = await call("POST", "", {
    url: options.url,
    events: ["*"],
    description: "npm run dev: the local receiver, printing what the bots hear",
  });
  if (made.status !== 201) {
    throw new Error(`registering the demo webhook answered ${made.status}: ${JSON.stringify(made.json)}`);
  }
  const { id, secret } = created.parse(made.json);
  writeFileSync(options.stateFile, `${JSON.stringify({ webhookId: id, secret }, null, 2)}\n`, { mode: 0o600 });
  return { webhookId: id, secret, created: true };
}
