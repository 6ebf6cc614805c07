import { randomBytes } from "node:crypto";
import { aesDecryptCTR, aesDecryptGCM, aesEncryptCTR, Curve, derivePairingCodeKey, hkdf } from "baileys";

/**
 * The phone's half of linking by pairing code (WhatsApp's "link with phone number"): the mirror of
 * Baileys' `requestPairingCode` and its `link_code_companion_reg` handler. Both sides wrap an
 * ephemeral key with a key derived from the 8-character code, so only a phone that was told the
 * code can complete the exchange; the ADV secret comes out of it instead of the QR code.
 */
export class PrimaryCodeExchange {
  readonly #ephemeral = Curve.generateKeyPair();
  readonly #companionEphemeral: Buffer;

  private constructor(companionEphemeral: Buffer) {
    this.#companionEphemeral = companionEphemeral;
  }

  /** Unwraps the companion's ephemeral key with the code the user typed on the phone. */
  static async open(code: string, wrappedCompanionEphemeral: Uint8Array): Promise<PrimaryCodeExchange> {
    const wrapped = Buffer.from(wrappedCompanionEphemeral);
    if (wrapped.length !== 32 + 16 + 32) throw new Error("the companion's wrapped key is not 80 bytes");
    const key = await derivePairingCodeKey(code, wrapped.subarray(0, 32));
    return new PrimaryCodeExchange(aesDecryptCTR(wrapped.subarray(48), key, wrapped.subarray(32, 48)));
  }

  /** The phone's own ephemeral key, wrapped with the same code, for the companion. */
  async wrappedPrimaryEphemeral(code: string): Promise<Buffer> {
    const salt = randomBytes(32);
    const iv = randomBytes(16);
    const key = await derivePairingCodeKey(code, salt);
    return Buffer.concat([salt, iv, aesEncryptCTR(this.#ephemeral.public, key, iv)]);
  }

  /**
   * The companion's finish: its key bundle decrypts only if both sides used the same code. Returns
   * the companion's identity key and the ADV secret both now share.
   */
  finish(input: { wrappedKeyBundle: Uint8Array; accountKey: { public: Uint8Array; private: Uint8Array } }): {
    companionIdentityKey: Buffer;
    advSecret: Buffer;
  } {
    const companionShared = Curve.sharedKey(this.#ephemeral.private, this.#companionEphemeral);
    const wrapped = Buffer.from(input.wrappedKeyBundle);
    const key = Buffer.from(
      hkdf(companionShared, 32, { salt: wrapped.subarray(0, 32), info: "link_code_pairing_key_bundle_encryption_key" }),
    );
    const bundle = aesDecryptGCM(wrapped.subarray(44), key, wrapped.subarray(32, 44), Buffer.alloc(0));
    const companionIdentityKey = bundle.subarray(0, 32);
    if (!bundle.subarray(32, 64).equals(Buffer.from(input.accountKey.public))) {
      throw new Error("the companion's key bundle names another phone");
    }
    const random = bundle.subarray(64, 96);
    const identityShared = Curve.sharedKey(input.accountKey.private, companionIdentityKey);
    const advSecret = Buffer.from(
      hkdf(Buffer.concat([companionShared, identityShared, random]), 32, { info: "adv_secret" }),
    );
    return { companionIdentityKey: Buffer.from(companionIdentityKey), advSecret };
  }
}
