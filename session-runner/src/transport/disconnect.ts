import { DisconnectReason } from "baileys";

/**
 * What the runner does when a connection closes, by WhatsApp's status code (BAILEYS.md):
 * - `restart`: reconnect at once (515 after pairing, the server restarting the stream);
 * - `logged_out`: the session is dead (401, 411) — clear auth, stop, ask to re-link;
 * - `forbidden`: the number is banned or blocked (403) — stop and alert;
 * - `replaced`: another client took the session (440) — never fight it;
 * - `outdated`: WhatsApp refuses this client version (405);
 * - `bad_session`: 500 — back off; re-link if it keeps recurring;
 * - `transient`: everything else (408, 428, 503, network errors) — back off with jitter.
 */
export type DisconnectClass =
  | "restart"
  | "logged_out"
  | "forbidden"
  | "replaced"
  | "outdated"
  | "bad_session"
  | "transient";

export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("output" in error)) return undefined;
  const output = error.output;
  if (typeof output !== "object" || output === null || !("statusCode" in output)) return undefined;
  return typeof output.statusCode === "number" ? output.statusCode : undefined;
}

export function classifyDisconnect(error: unknown): DisconnectClass {
  switch (statusCodeOf(error)) {
    case DisconnectReason.restartRequired:
      return "restart";
    case DisconnectReason.loggedOut:
    case DisconnectReason.multideviceMismatch:
      return "logged_out";
    case DisconnectReason.forbidden:
      return "forbidden";
    case DisconnectReason.connectionReplaced:
      return "replaced";
    case 405:
      return "outdated";
    case DisconnectReason.badSession:
      return "bad_session";
    default:
      return "transient";
  }
}
