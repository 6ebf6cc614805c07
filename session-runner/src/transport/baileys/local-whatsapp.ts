import { WA_CERT_DETAILS } from "baileys";

/** Where a local WhatsApp server (the `local-whatsapp` workspace) listens, and the root key it signs with. */
export interface LocalWhatsAppTarget {
  /** `ws://` or `wss://` URL of its chat endpoint. */
  url: string;
  /** Its Noise root public key: 32 bytes. */
  rootKey: Uint8Array;
}

/**
 * Makes this process's Baileys accept a local WhatsApp server's certificate chain. Baileys checks
 * the server's intermediate certificate against one process-wide key (`WA_CERT_DETAILS.PUBLIC_KEY`);
 * replacing it means this process can no longer reach WhatsApp itself, so it is refused in
 * production whatever else the configuration says.
 */
export function trustLocalWhatsApp(target: LocalWhatsAppTarget, nodeEnv: string | undefined): void {
  if (nodeEnv === "production") {
    throw new Error("a local WhatsApp server is for development and tests only; refused with NODE_ENV=production");
  }
  if (target.rootKey.length !== 32) {
    throw new Error(`the local WhatsApp root key must be 32 bytes (got ${target.rootKey.length})`);
  }
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(target.rootKey);
}
