import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyring, KeyringError, keyringSpecSchema } from "../src/index.ts";

const key = () => randomBytes(32);

describe("keyring", () => {
  it("seals and opens, binding the value to its document", () => {
    const keyring = createKeyring(new Map([["k1", key()]]), "k1");
    const sealed = keyring.seal(Buffer.from("session bytes"), "tenants/t/bots/b/auth/creds");
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain("session");
    expect(keyring.open(sealed, "tenants/t/bots/b/auth/creds").toString()).toBe("session bytes");
    expect(() => keyring.open(sealed, "tenants/t/bots/other/auth/creds")).toThrow(KeyringError);
  });

  it("rotates: old values open with their key, new ones seal with the active key", () => {
    const k1 = key();
    const before = createKeyring(new Map([["k1", k1]]), "k1").seal(Buffer.from("old"), "doc");
    const after = createKeyring(
      new Map([
        ["k1", k1],
        ["k2", key()],
      ]),
      "k2",
    );
    expect(after.open(before, "doc").toString()).toBe("old");
    expect(after.seal(Buffer.from("new"), "doc")).toMatch(/^v1\.k2\./);
    expect(() => createKeyring(new Map([["k2", key()]]), "k2").open(before, "doc")).toThrow(/sealed with key "k1"/);
  });

  it("detects tampering", () => {
    const keyring = createKeyring(new Map([["k1", key()]]), "k1");
    const sealed = keyring.seal(Buffer.from("value"), "doc");
    const parts = sealed.split(".");
    parts[4] = Buffer.from("other").toString("base64url");
    expect(() => keyring.open(parts.join("."), "doc")).toThrow(/does not decrypt/);
  });

  it("refuses a truncated authentication tag, which GCM would otherwise check only in part", () => {
    const keyring = createKeyring(new Map([["k1", key()]]), "k1");
    const parts = keyring.seal(Buffer.from("value"), "doc").split(".");
    for (const length of [4, 8, 12, 15]) {
      const truncated = [...parts];
      truncated[3] = Buffer.from(parts[3] ?? "", "base64url")
        .subarray(0, length)
        .toString("base64url");
      expect(() => keyring.open(truncated.join("."), "doc")).toThrow(KeyringError);
      expect(() => keyring.open(truncated.join("."), "doc")).toThrow(`tag is ${length} bytes, not 16`);
    }
  });

  it("parses AUTH_STATE_KEYS and names what is wrong", () => {
    const spec = `k1:${key().toString("base64")},k2:${key().toString("base64")}`;
    expect([...keyringSpecSchema.parse(spec).keys()]).toEqual(["k1", "k2"]);
    expect(keyringSpecSchema.safeParse("k1:short").success).toBe(false);
    expect(() => createKeyring(keyringSpecSchema.parse(spec), "k3")).toThrow(/active key "k3"/);
  });
});
