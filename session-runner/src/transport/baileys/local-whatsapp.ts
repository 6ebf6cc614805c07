import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { WA_CERT_DETAILS } from "baileys";

/** Where a local WhatsApp server (the `local-whatsapp` workspace) listens, and what it signs with. */
export interface LocalWhatsAppTarget {
  /** `ws://` or `wss://` URL of its chat endpoint. */
  url: string;
  /** Its Noise root public key: 32 bytes. */
  rootKey: Uint8Array;
  /** Its media host (WhatsApp's mmg.whatsapp.net): the origin and the CA its certificate comes from. */
  media?: { origin: string; caPem: string } | undefined;
}

/**
 * Makes this process accept a local WhatsApp server: Baileys checks the server's Noise certificate
 * chain against one process-wide key (`WA_CERT_DETAILS.PUBLIC_KEY`), and the media host's TLS
 * certificate is checked against the process's default CAs, which gain the server's own. Both are
 * process-wide — this process could no longer reach WhatsApp — so it is refused in production
 * whatever else the configuration says.
 */
export function trustLocalWhatsApp(target: LocalWhatsAppTarget, nodeEnv: string | undefined): void {
  if (nodeEnv === "production") {
    throw new Error("a local WhatsApp server is for development and tests only; refused with NODE_ENV=production");
  }
  if (target.rootKey.length !== 32) {
    throw new Error(`the local WhatsApp root key must be 32 bytes (got ${target.rootKey.length})`);
  }
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(target.rootKey);
  if (target.media) {
    if (!target.media.caPem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new Error("the local WhatsApp media CA must be a PEM certificate");
    }
    setDefaultCACertificates([...getCACertificates("default"), target.media.caPem]);
  }
}
