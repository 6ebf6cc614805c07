import { BlockList, isIP } from "node:net";
import { type FieldIssue, ValidationError } from "../errors/domain-error.ts";

/** Long enough for any receiver's URL with a token in it; short enough to show in a list. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

/**
 * Literal addresses that are never a tenant's public server: this host, private networks, link-local
 * (the metadata server), shared, reserved, multicast, and the IPv6 equivalents. Only for the early
 * refusal of a typed-in address; the deliverer's SSRF guard checks every resolved one.
 */
const internalRanges = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  internalRanges.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 127],
  // IPv4 written as IPv6 (`[::ffff:127.0.0.1]`): no public server needs to be named that way.
  ["::ffff:0:0", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  internalRanges.addSubnet(network, prefix, "ipv6");
}

function isInternalAddress(address: string): boolean {
  return internalRanges.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

/** Names that only ever mean this machine or the cloud's own network (the metadata server). */
const internalNames = [/^localhost$/, /\.localhost$/, /^metadata$/, /\.internal$/, /\.local$/];

/**
 * Checks a webhook URL when it is registered or changed: syntax, scheme, and — when private targets
 * are not allowed — a literal internal address or name, so the tenant hears about it now, not from
 * a failed delivery. The deliverer's SSRF guard still checks every resolved address on every
 * request; this is the early, clear refusal, not the defence.
 */
export function checkWebhookUrl(raw: string, { allowPrivateTargets }: { allowPrivateTargets: boolean }): string {
  const refuse = (message: string): never => {
    const issue: FieldIssue = { path: "url", message };
    throw new ValidationError(`Invalid webhook URL: ${message}`, [issue]);
  };
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("must be an absolute URL, like https://example.com/webhooks");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") refuse("must use https");
  if (url.protocol === "http:" && !allowPrivateTargets) {
    refuse("must use https (http is only allowed for local development)");
  }
  // Credentials in the URL would be shown in lists and logs; receivers verify our signature instead.
  if (url.username || url.password) refuse("must not contain a user name or password");
  if (url.hash) refuse("must not contain a #fragment");
  if (!allowPrivateTargets) {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
    if (isIP(host) !== 0 && isInternalAddress(host)) {
      refuse("points at a private, loopback, link-local or otherwise internal address");
    }
    if (isIP(host) === 0 && internalNames.some((pattern) => pattern.test(host.replace(/\.$/, "")))) {
      refuse("names an internal host");
    }
  }
  return url.href;
}
