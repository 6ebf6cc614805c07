import { Agent } from "undici";

/** What Node's global fetch (and so Baileys' `downloadMediaMessage` options) takes as `dispatcher`. */
export type FetchDispatcher = NonNullable<RequestInit["dispatcher"]>;

/**
 * An undici Agent that trusts `caPem` on top of Node's roots, for one caller: Baileys' downloads
 * take it per call (`downloadMediaMessage(msg, "buffer", {options: {dispatcher}})`). The version
 * pinned is the undici Node 24 bundles, which runs the global fetch.
 */
export function trustingDispatcher(caPem: string): { dispatcher: FetchDispatcher; close(): Promise<void> } {
  const agent = new Agent({ connect: { ca: caPem } });
  return { dispatcher: asFetchDispatcher(agent), close: () => agent.close() };
}

/**
 * undici's own declarations and @types/node's copy of them (undici-types) describe the same
 * Dispatcher, but TypeScript does not unify the two under exactOptionalPropertyTypes; this checks
 * the one method fetch calls instead of casting.
 */
function asFetchDispatcher(value: unknown): FetchDispatcher {
  if (!isFetchDispatcher(value)) throw new Error("not an undici dispatcher: it has no dispatch()");
  return value;
}

function isFetchDispatcher(value: unknown): value is FetchDispatcher {
  return typeof value === "object" && value !== null && "dispatch" in value && typeof value.dispatch === "function";
}
