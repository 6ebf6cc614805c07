/**
 * Media on the local WhatsApp server: an HTTPS media host (WhatsApp's `mmg.whatsapp.net`) with a
 * CA made at every start, the `w:m`/`media_conn` query that points Baileys at it, and what a
 * simulated phone needs to send and receive media.
 *
 * How Baileys 7.0.0-rc14 uses it (node_modules/baileys/lib/Utils/messages-media.js):
 * - Upload: `getWAUploadToServer` asks `media_conn` (cached for its `ttl`), then POSTs the
 *   encrypted file to `https://<hosts[i].hostname>/mms/<type>/<encSha256 b64url>?auth=<auth>&token=<same hash>`
 *   and takes `url` and `direct_path` from the JSON answer. On Node it posts with `node:https`,
 *   passing the socket config's `fetchAgent` as the request's `agent`: its TLS trust comes from
 *   that agent alone. A refused upload is not retried on the same host (it re-asks media_conn
 *   and moves to the next host; there is one here).
 * - Download: `downloadMediaMessage` → `downloadContentFromMessage` fetches
 *   `https://<host><directPath>`, the host being `opts.host`, else the message `url`'s host (here
 *   the local origin), else `mmg.whatsapp.net`, through the global `fetch` with
 *   `opts.options.dispatcher`. It sends `Range` only when asked for `startByte`/`endByte`.
 *
 * What a process must configure to reach the local media host (the CA is new at every start:
 * take `LocalWhatsApp.media.caPem` and `.origin` from the running server, never pin them):
 * - Its Baileys socket: `makeWASocket({ …, fetchAgent: new https.Agent({ ca: media.caPem }) })`
 *   (`LocalWhatsApp.media.agent()` makes one). Without it every upload fails with "Media upload
 *   failed on all hosts". No `customUploadHosts`: media_conn names the host.
 * - Baileys' downloads: `downloadMediaMessage(msg, "buffer", { options: { dispatcher } })` with an
 *   undici `new Agent({ connect: { ca: media.caPem } })` (test/support/trusting-dispatcher.ts).
 * - The session-runner's own download (session-runner/src/transport/baileys/media-download.ts):
 *   `origins: [media.origin]` (through `baileysTransport(…, { origins })`), which its direct-path
 *   check then accepts (local direct paths are `/o1/v/t62.7118-24/f2/m232/<id>?ccb=9-4&oe=…&_nc_sid=…`,
 *   never redirected). Its `fetch` takes no dispatcher today, so the CA cannot be given to it per
 *   call: either that module gains an optional `dispatcher` (preferred), or the runner's dev process
 *   is started with `NODE_EXTRA_CA_CERTS=<a file holding media.caPem>` (that process only, read at
 *   its start). `baileysTransport`'s overrides must also let `fetchAgent` through.
 * - Never `NODE_TLS_REJECT_UNAUTHORIZED=0`, never a process-wide trust change in production, and
 *   all of it refused with NODE_ENV=production like LOCAL_WHATSAPP_URL.
 * Not served: media re-upload requests (`updateMediaMessage`'s server-error receipt): files live
 * as long as the server, so a 404 means never uploaded here or the server restarted.
 */
export { createMediaCertificates, type MediaCertificates } from "./certificates.ts";
export { MEDIA_ERRORS, type MediaErrorCode } from "./media-errors.ts";
export { type MediaGrant, type MediaLimits, MediaServer } from "./media-server.ts";
export { MediaStore, MediaStoreFullError, type StoredMedia } from "./media-store.ts";
export {
  downloadMediaOnPhone,
  type PhoneMediaContent,
  type PhoneMediaDownload,
  PhoneMediaError,
  type PhoneMediaFailure,
  sendMediaFromPhone,
  uploadMediaFromPhone,
} from "./phone-media.ts";
