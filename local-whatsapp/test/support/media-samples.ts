import { createHash } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";

/**
 * A real PNG (8-bit RGB), different for every seed: Baileys makes its thumbnail from it, so it
 * must decode; its pixels are noise so that no two test files compress alike.
 */
export function samplePng(width: number, height: number, seed: string): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    noise(`${seed}:${y}`, width * 3).copy(row, 1);
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * Sticker bytes in a WebP container (RIFF, `WEBP`, one `VP8L` chunk of noise). Neither Baileys
 * nor the server looks inside a sticker, so only the bytes' exact return matters.
 */
export function sampleWebp(size: number, seed: string): Buffer {
  const payload = noise(seed, size);
  const vp8l = Buffer.concat([Buffer.from("VP8L"), u32le(payload.length), payload]);
  return Buffer.concat([Buffer.from("RIFF"), u32le(4 + vp8l.length), Buffer.from("WEBP"), vp8l]);
}

/** Deterministic bytes from a seed (SHA-256 in counter mode): a failing test reproduces. */
export function noise(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, counter = 0; offset < size; offset += 32, counter++) {
    createHash("sha256").update(`${seed}/${counter}`).digest().copy(out, offset);
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  return Buffer.concat([length, body, crc]);
}

function u32le(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value, 0);
  return bytes;
}
