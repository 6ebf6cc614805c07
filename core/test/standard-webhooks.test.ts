import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signature, signedHeaders } from "../src/webhooks/standard-webhooks.ts";

const body = JSON.stringify({
  type: "message.received",
  timestamp: "2026-12-03T10:00:00.000Z",
  data: { text: "héllo" },
});
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("Standard Webhooks signing", () => {
  it("is verified by the official library, for the current and the previous secret", () => {
    const current = newWebhookSecret();
    const previous = newWebhookSecret();
    const headers = signedHeaders([current, previous], "evt_abc", nowSeconds(), body);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(current).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it("matches the library's own signature byte for byte", () => {
    const secret = newWebhookSecret();
    const at = new Date(1_764_756_000_000);
    expect(signature(secret, "evt_1", 1_764_756_000, body)).toBe(new Webhook(secret).sign("evt_1", at, body));
  });

  it("is rejected when the body, the id or the timestamp was changed", () => {
    const secret = newWebhookSecret();
    const headers = signedHeaders([secret], "evt_abc", nowSeconds(), body);
    const wh = new Webhook(secret);
    expect(() => wh.verify(`${body} `, { ...headers })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, "webhook-id": "evt_other" })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, "webhook-timestamp": String(nowSeconds() - 1) })).toThrow(
      WebhookVerificationError,
    );
  });

  it("is rejected outside the receiver's 5-minute tolerance", () => {
    const secret = newWebhookSecret();
    const wh = new Webhook(secret);
    for (const offset of [-6 * 60, 6 * 60]) {
      const headers = signedHeaders([secret], "evt_abc", nowSeconds() + offset, body);
      expect(() => wh.verify(body, { ...headers })).toThrow(/timestamp/i);
    }
    const fresh = signedHeaders([secret], "evt_abc", nowSeconds() - 60, body);
    expect(() => wh.verify(body, { ...fresh })).not.toThrow();
  });

  it("refuses a secret that is not whsec_ with a real key", () => {
    expect(() => signedHeaders(["abc"], "evt", 1, body)).toThrow(/whsec_/);
    expect(() => signedHeaders(["whsec_AAAA"], "evt", 1, body)).toThrow(/24 bytes/);
    expect(() => signedHeaders([], "evt", 1, body)).toThrow(/at least one/);
  });
});
