import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

/** A CA made for one media server, and the server's certificate it issued. PEM, in memory only. */
export interface MediaCertificates {
  /** What a client must trust to reach the media server: hand it to that client alone. */
  caPem: string;
  certPem: string;
  keyPem: string;
}

const VALID_FOR_MS = 30 * 24 * 60 * 60 * 1_000;
/** Clients whose clocks run a little behind still accept a certificate made this instant. */
const BACKDATED_MS = 60 * 60 * 1_000;

/**
 * A throwaway certificate authority and a server certificate for `names` (IP addresses or DNS
 * names), made at every start and never written anywhere: nothing outside the process that
 * configures this CA explicitly can be made to trust it, and it dies with the server.
 */
export function createMediaCertificates(names: readonly string[]): MediaCertificates {
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const ca = certificate(caKeys.publicKey, [{ name: "commonName", value: "Local WhatsApp media CA" }]);
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const server = certificate(serverKeys.publicKey, [{ name: "commonName", value: names[0] ?? "localhost" }]);
  server.setIssuer(ca.subject.attributes);
  server.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
    {
      name: "subjectAltName",
      // 7 is an IP address, 2 a DNS name (RFC 5280 GeneralName).
      altNames: [...new Set(names)].map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(server),
    keyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
  };
}

function certificate(publicKey: forge.pki.PublicKey, subject: forge.pki.CertificateField[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive and unique: the high bit clear keeps the DER integer from reading as negative.
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  cert.serialNumber = serial.toString("hex");
  cert.validity.notBefore = new Date(Date.now() - BACKDATED_MS);
  cert.validity.notAfter = new Date(Date.now() + VALID_FOR_MS);
  cert.setSubject(subject);
  return cert;
}
