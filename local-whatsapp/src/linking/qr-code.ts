/** What a linking QR code carries (Baileys 7's `buildPairingQRData`). */
export interface LinkingQr {
  ref: string;
  noiseKey: Buffer;
  identityKey: Buffer;
  advSecret: Buffer;
}

const PREFIX = "https://wa.me/settings/linked_devices#";

/** Reads a QR string as a phone's camera would; a clear error names what is wrong. */
export function parseLinkingQr(qr: string): LinkingQr {
  const body = qr.startsWith(PREFIX) ? qr.slice(PREFIX.length) : qr;
  const [ref, noise, identity, adv] = body.split(",");
  if (!ref || !noise || !identity || !adv) {
    throw new Error("not a WhatsApp linking QR code: expected ref,noise key,identity key,secret");
  }
  const noiseKey = Buffer.from(noise, "base64");
  const identityKey = Buffer.from(identity, "base64");
  const advSecret = Buffer.from(adv, "base64");
  if (noiseKey.length !== 32 || identityKey.length !== 32 || advSecret.length !== 32) {
    throw new Error("not a WhatsApp linking QR code: its keys are not 32 bytes each");
  }
  return { ref, noiseKey, identityKey, advSecret };
}
