import { Curve, hmacSign, proto, WA_ADV_ACCOUNT_SIG_PREFIX, WA_ADV_DEVICE_SIG_PREFIX } from "baileys";

/**
 * The account's signature over a new companion (WhatsApp's ADV): the phone signs the companion's
 * identity key with the account key, and MACs the result with the secret the companion showed in
 * its QR code (or derived with the pairing code), so the companion knows the phone saw its QR.
 */
export function signCompanion(input: {
  accountKey: { public: Uint8Array; private: Uint8Array };
  companionIdentityKey: Uint8Array;
  keyIndex: number;
  advSecret: Uint8Array;
}): { deviceIdentity: Uint8Array; deviceDetails: Uint8Array } {
  const deviceDetails = proto.ADVDeviceIdentity.encode({
    rawId: Math.floor(Math.random() * 2 ** 31),
    timestamp: Math.floor(Date.now() / 1_000),
    keyIndex: input.keyIndex,
    deviceType: proto.ADVEncryptionType.E2EE,
  }).finish();
  const accountSignature = Curve.sign(
    input.accountKey.private,
    Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, deviceDetails, input.companionIdentityKey]),
  );
  const details = proto.ADVSignedDeviceIdentity.encode({
    details: deviceDetails,
    accountSignatureKey: input.accountKey.public,
    accountSignature,
  }).finish();
  const hmac = hmacSign(details, Buffer.from(input.advSecret));
  return {
    deviceIdentity: proto.ADVSignedDeviceIdentityHMAC.encode({ details, hmac }).finish(),
    deviceDetails,
  };
}

/** The companion's countersignature in its `pair-device-sign` reply: proof it holds its identity key. */
export function verifyCompanionReply(input: {
  signedIdentity: Uint8Array;
  deviceDetails: Uint8Array;
  companionIdentityKey: Uint8Array;
  accountPublicKey: Uint8Array;
}): boolean {
  const signed = proto.ADVSignedDeviceIdentity.decode(input.signedIdentity);
  if (!signed.deviceSignature || !signed.details) return false;
  if (!Buffer.from(signed.details).equals(Buffer.from(input.deviceDetails))) return false;
  return Curve.verify(
    input.companionIdentityKey,
    Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, input.deviceDetails, input.companionIdentityKey, input.accountPublicKey]),
    signed.deviceSignature,
  );
}
