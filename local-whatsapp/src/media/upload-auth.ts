import { randomBytes } from "node:crypto";
import type { Account, Device } from "../accounts/directory.ts";

interface Grant {
  account: Account;
  device: Device;
  expiresAt: number;
}

/**
 * The `auth` tokens a `media_conn` answer hands a logged-in device, which its uploads must carry.
 * Each answer mints a new one (Baileys asks once per connection and again when the `ttl` passes
 * or an upload fails); a token dies when it expires or its device is unlinked. A token outlives
 * the answer's `ttl` (twice over) so that an upload begun just before Baileys' cached answer
 * expires still lands: Baileys does not retry a refused upload on the same host.
 */
export class UploadAuth {
  readonly #grants = new Map<string, Grant>();
  readonly ttlSeconds: number;

  constructor(ttlSeconds: number) {
    this.ttlSeconds = ttlSeconds;
  }

  /** How long a token is accepted (media_conn's `auth_ttl`). */
  get authTtlSeconds(): number {
    return 2 * this.ttlSeconds;
  }

  issue(account: Account, device: Device): string {
    const now = Date.now();
    for (const [token, grant] of this.#grants) if (grant.expiresAt <= now) this.#grants.delete(token);
    const token = randomBytes(24).toString("base64url");
    this.#grants.set(token, { account, device, expiresAt: now + this.authTtlSeconds * 1_000 });
    return token;
  }

  /** Who may upload with `token`, or undefined when it was never issued, has expired or its device is gone. */
  holder(token: string | null): { account: Account; device: Device } | undefined {
    const grant = token === null ? undefined : this.#grants.get(token);
    if (!grant) return undefined;
    if (grant.expiresAt <= Date.now() || grant.account.devices.get(grant.device.id) !== grant.device) {
      if (token !== null) this.#grants.delete(token);
      return undefined;
    }
    return { account: grant.account, device: grant.device };
  }
}
