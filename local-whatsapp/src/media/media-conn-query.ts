import type { BinaryNode } from "baileys";
import type { Directory } from "../accounts/directory.ts";
import type { QueryContext } from "../iq/queries.ts";
import type { MediaServer } from "./media-server.ts";

/**
 * Each server's media host, found through the directory a query context carries (one per server).
 * The query context is built by the client session, which knows nothing of media; passing the
 * media server in that context would make this lookup unnecessary.
 */
const mediaHosts = new WeakMap<Directory, MediaServer>();

/** Makes `media_conn` queries answered for `directory`'s devices point at `media`. */
export function announceMediaHost(directory: Directory, media: MediaServer): void {
  mediaHosts.set(directory, media);
}

/**
 * `<iq xmlns=w:m type=set><media_conn/></iq>`: where to upload and the token to upload with, as
 * Baileys' `refreshMediaConn` reads it (`auth`, `ttl`, each `host`'s `hostname` and
 * `maxContentLengthBytes`). A new token for the asking device on every answer.
 */
export function mediaConnection(ctx: Pick<QueryContext, "directory" | "account" | "device">): BinaryNode[] {
  const media = mediaHosts.get(ctx.directory);
  if (!media) throw new Error("this directory's server runs no media host: start it with LocalWhatsApp.start");
  const { auth, ttlSeconds, authTtlSeconds, hosts } = media.grant(ctx.account, ctx.device);
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
