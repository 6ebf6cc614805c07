import type { AuthenticationCreds } from "baileys";

/**
 * Whether credentials belong to a linked device: WhatsApp's pair-success gave them the account's
 * signed device identity (`account`). Not `registered` — Baileys sets that only when linking by
 * pairing code, so a QR-linked session keeps `registered: false` for life — and not `me`, which
 * asking for a pairing code sets before anything is linked.
 */
export function isLinked(creds: AuthenticationCreds): boolean {
  return creds.account !== undefined && creds.account !== null;
}
