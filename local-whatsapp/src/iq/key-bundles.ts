import { type BinaryNode, encodeBigEndian, getBinaryNodeChild, getBinaryNodeChildren, KEY_BUNDLE_TYPE } from "baileys";
import type { Device, KeyBundle } from "../accounts/directory.ts";

/** `<iq xmlns=encrypt type=set>`: a device uploads its identity, signed pre-key and one-time pre-keys. */
export function readKeyUpload(iq: BinaryNode, into: KeyBundle): void {
  const registration = bytes(getBinaryNodeChild(iq, "registration"));
  const identity = bytes(getBinaryNodeChild(iq, "identity"));
  if (registration) into.registrationId = Buffer.from(registration).readUInt32BE(0);
  if (identity) into.identityKey = identity;
  const list = getBinaryNodeChild(iq, "list");
  for (const key of getBinaryNodeChildren(list, "key")) {
    const id = bytes(getBinaryNodeChild(key, "id"));
    const value = bytes(getBinaryNodeChild(key, "value"));
    if (id && value) into.preKeys.set(Buffer.from(id).readUIntBE(0, id.length), value);
  }
  const skey = getBinaryNodeChild(iq, "skey");
  if (skey) readSignedPreKey(skey, into);
}

export function readSignedPreKey(skey: BinaryNode, into: KeyBundle): void {
  const id = bytes(getBinaryNodeChild(skey, "id"));
  const value = bytes(getBinaryNodeChild(skey, "value"));
  const signature = bytes(getBinaryNodeChild(skey, "signature"));
  if (!id || !value || !signature) throw new Error("skey without id, value or signature");
  into.signedPreKey = { keyId: Buffer.from(id).readUIntBE(0, id.length), publicKey: value, signature };
}

/** One device's bundle for a key fetch, handing out (and so using up) one one-time pre-key. */
export function keyBundleNode(jid: string, device: Device): BinaryNode {
  const { keys } = device;
  const content: BinaryNode[] = [
    { tag: "registration", attrs: {}, content: encodeBigEndian(keys.registrationId) },
    { tag: "type", attrs: {}, content: KEY_BUNDLE_TYPE },
    { tag: "identity", attrs: {}, content: keys.identityKey },
    {
      tag: "skey",
      attrs: {},
      content: [
        { tag: "id", attrs: {}, content: encodeBigEndian(keys.signedPreKey.keyId, 3) },
        { tag: "value", attrs: {}, content: keys.signedPreKey.publicKey },
        { tag: "signature", attrs: {}, content: keys.signedPreKey.signature },
      ],
    },
  ];
  const next = keys.preKeys.entries().next();
  if (!next.done) {
    const [keyId, publicKey] = next.value;
    keys.preKeys.delete(keyId);
    content.push({
      tag: "key",
      attrs: {},
      content: [
        { tag: "id", attrs: {}, content: encodeBigEndian(keyId, 3) },
        { tag: "value", attrs: {}, content: publicKey },
      ],
    });
  }
  return { tag: "user", attrs: { jid }, content };
}

function bytes(node: BinaryNode | undefined): Uint8Array | undefined {
  return node?.content instanceof Uint8Array ? node.content : undefined;
}
