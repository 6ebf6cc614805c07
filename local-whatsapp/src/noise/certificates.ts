import { Curve, proto } from "baileys";
import type { KeyPair } from "./noise-responder.ts";

/**
 * The local server's Noise certificates, as WhatsApp's: a root key (the one clients trust), an
 * intermediate certificate it signs with issuer serial 0, and a leaf for the server's static key
 * signed by the intermediate. A Baileys client accepts the chain once the root's public key is in
 * its `WA_CERT_DETAILS.PUBLIC_KEY` (the runner does that only when told to, outside production).
 */
export interface ServerIdentity {
  /** What the client must trust (32 bytes). */
  rootPublicKey: Uint8Array;
  /** The server's Noise static key. */
  staticKey: KeyPair;
  /** `CertChain`, encoded: the payload of the server's hello. */
  certificateChain: Uint8Array;
}

const ROOT_SERIAL = 0;
const INTERMEDIATE_SERIAL = 1;
const YEAR_SECONDS = 365 * 24 * 3_600;

export function createServerIdentity(root: KeyPair = Curve.generateKeyPair()): ServerIdentity {
  const intermediate = Curve.generateKeyPair();
  const staticKey = Curve.generateKeyPair();
  const now = Math.floor(Date.now() / 1_000);
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: ROOT_SERIAL,
    key: intermediate.public,
    notBefore: now - 60,
    notAfter: now + YEAR_SECONDS,
  }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 2,
    issuerSerial: INTERMEDIATE_SERIAL,
    key: staticKey.public,
    notBefore: now - 60,
    notAfter: now + YEAR_SECONDS,
  }).finish();
  const certificateChain = proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(root.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
  }).finish();
  return { rootPublicKey: root.public, staticKey, certificateChain };
}
