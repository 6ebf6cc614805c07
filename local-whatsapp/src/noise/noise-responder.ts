import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, NOISE_WA_HEADER, proto, sha256 } from "baileys";

/** A Curve25519 key pair as Baileys keeps them: 32 raw bytes each. */
export interface KeyPair {
  public: Uint8Array;
  private: Uint8Array;
}

const EMPTY = Buffer.alloc(0);

function nonce(counter: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(counter, 8);
  return iv;
}

/** After the handshake: AES-GCM both ways, each direction with its own key and counter. */
export class NoiseTransport {
  #readCounter = 0;
  #writeCounter = 0;
  readonly #encryptKey: Buffer;
  readonly #decryptKey: Buffer;

  constructor(encryptKey: Buffer, decryptKey: Buffer) {
    this.#encryptKey = encryptKey;
    this.#decryptKey = decryptKey;
  }

  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.#encryptKey, nonce(this.#writeCounter++), EMPTY);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.#decryptKey, nonce(this.#readCounter++), EMPTY);
  }
}

export interface HandshakeResult {
  /** The client's static key: a companion's `noiseKey`, which identifies it at login. */
  clientStatic: Uint8Array;
  payload: proto.ClientPayload;
  transport: NoiseTransport;
}

/**
 * WhatsApp's Noise XX handshake (Noise_XX_25519_AESGCM_SHA256), as the responder: the mirror image
 * of Baileys' `makeNoiseHandler`. The hash starts from the protocol name, then mixes in WhatsApp's
 * 4-byte intro header and the client's ephemeral key; the server answers with its ephemeral key,
 * its static key and its certificate chain (encrypted), and the client finishes with its static key
 * and its ClientPayload (login or registration).
 */
export class NoiseResponder {
  #hash: Buffer;
  #salt: Buffer;
  #key: Buffer;
  #counter = 0;
  readonly #ephemeral: KeyPair = Curve.generateKeyPair();
  readonly #static: KeyPair;
  readonly #certificateChain: Uint8Array;

  constructor(serverStatic: KeyPair, certificateChain: Uint8Array) {
    this.#static = serverStatic;
    this.#certificateChain = certificateChain;
    const mode = Buffer.from(NOISE_MODE);
    this.#hash = mode.byteLength === 32 ? mode : sha256(mode);
    this.#salt = this.#hash;
    this.#key = this.#hash;
    this.#authenticate(NOISE_WA_HEADER);
  }

  /** The client's hello (its ephemeral key) → the server's hello, to send back. */
  respondToHello(clientHello: Uint8Array): { serverHello: Uint8Array; clientEphemeral: Uint8Array } {
    const hello = proto.HandshakeMessage.decode(clientHello).clientHello;
    const clientEphemeral = hello?.ephemeral;
    if (clientEphemeral?.length !== 32) throw new Error("client hello without a 32-byte ephemeral key");
    this.#authenticate(clientEphemeral);
    this.#authenticate(this.#ephemeral.public);
    this.#mix(Curve.sharedKey(this.#ephemeral.private, clientEphemeral));
    const encryptedStatic = this.#encrypt(this.#static.public);
    this.#mix(Curve.sharedKey(this.#static.private, clientEphemeral));
    const encryptedPayload = this.#encrypt(this.#certificateChain);
    const serverHello = proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.#ephemeral.public, static: encryptedStatic, payload: encryptedPayload },
    }).finish();
    return { serverHello, clientEphemeral };
  }

  /** The client's finish (its static key and payload) → the transport keys. */
  finish(clientFinish: Uint8Array): HandshakeResult {
    const finish = proto.HandshakeMessage.decode(clientFinish).clientFinish;
    if (!finish?.static || !finish.payload) throw new Error("client finish without its static key or payload");
    const clientStatic = this.#decrypt(finish.static);
    this.#mix(Curve.sharedKey(this.#ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(this.#decrypt(finish.payload));
    const keys = Buffer.from(hkdf(EMPTY, 64, { salt: this.#salt, info: "" }));
    // The client writes with the first half and reads with the second; the server the other way round.
    const transport = new NoiseTransport(keys.subarray(32), keys.subarray(0, 32));
    return { clientStatic, payload, transport };
  }

  #authenticate(data: Uint8Array): void {
    this.#hash = sha256(Buffer.concat([this.#hash, data]));
  }

  #mix(sharedSecret: Uint8Array): void {
    const derived = Buffer.from(hkdf(Buffer.from(sharedSecret), 64, { salt: this.#salt, info: "" }));
    this.#salt = derived.subarray(0, 32);
    this.#key = derived.subarray(32);
    this.#counter = 0;
  }

  #encrypt(plaintext: Uint8Array): Buffer {
    const ciphertext = aesEncryptGCM(plaintext, this.#key, nonce(this.#counter++), this.#hash);
    this.#authenticate(ciphertext);
    return ciphertext;
  }

  #decrypt(ciphertext: Uint8Array): Buffer {
    const plaintext = aesDecryptGCM(ciphertext, this.#key, nonce(this.#counter++), this.#hash);
    this.#authenticate(ciphertext);
    return plaintext;
  }
}
