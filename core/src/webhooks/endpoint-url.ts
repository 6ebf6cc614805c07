import { isIP } from "node:net";
import { type FieldIssue, ValidationError } from "../errors/domain-error.ts";
import { refusedAddress, refusedHostName } from "../net/address-policy.ts";

/** Long enough for any receiver's URL with a token in it; short enough to show in a list. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

/** Names that only ever mean this machine or a private network (when private targets are not allowed). */
const internalNames = [/^localhost$/, /\.localhost$/, /\.internal$/, /\.local$/];

/**
 * Checks a webhook URL when it is registered or changed: syntax, scheme, and a literal address or a
 * name the SSRF guard's policy refuses (with `allowPrivateTargets`, what it refuses even then), so
 * the tenant hears about it now, not from a failed delivery. The deliverer's SSRF guard still checks every resolved address on every
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
  // The SSRF guard's own policy, on what is already known without a lookup: a literal address, or
  // a name that means the metadata server (refused even in local development, as the guard does).
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const refusedName = refusedHostName(host);
  if (refusedName) refuse(`is refused: ${refusedName}`);
  if (isIP(host) !== 0) {
    const refusedIp = refusedAddress(host, { allowPrivate: allowPrivateTargets });
    if (refusedIp) refuse(`is refused: ${refusedIp}, not a public server`);
  } else if (!allowPrivateTargets && internalNames.some((pattern) => pattern.test(host.replace(/\.$/, "")))) {
    refuse("names an internal host, not a public server");
  }
  return url.href;
}
