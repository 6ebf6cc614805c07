import type { BinaryNode } from "baileys";
import type { QueryContext } from "../iq/queries.ts";

/**
 * `<iq xmlns=w:m type=set><media_conn/></iq>`: where to upload and the token to upload with, as
 * Baileys' `refreshMediaConn` reads it (`auth`, `ttl`, each `host`'s `hostname` and
 * `maxContentLengthBytes`). A new token for the asking device on every answer.
 */
export function mediaConnection(ctx: Pick<QueryContext, "media" | "account" | "device">): BinaryNode[] {
  const { auth, ttlSeconds, authTtlSeconds, hosts } = ctx.media.grant(ctx.account, ctx.device);
  return [
    {
      tag: "media_conn",
      attrs: { auth, ttl: String(ttlSeconds), auth_ttl: String(authTtlSeconds), max_buckets: "12" },
      content: hosts.map(({ hostname, maxContentLengthBytes }) => ({
        tag: "host",
        attrs: { hostname, maxContentLengthBytes: String(maxContentLengthBytes) },
      })),
    },
  ];
}
