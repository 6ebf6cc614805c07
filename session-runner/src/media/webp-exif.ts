/**
 * WhatsApp reads a sticker's pack and author from an EXIF chunk in the WebP file holding one
 * TIFF entry, tag 0x5741, whose value is JSON. Neither sharp nor Baileys writes it, so this adds the
 * chunk to sharp's output: the RIFF container gets (or keeps) a VP8X header with the EXIF flag, and
 * an EXIF chunk at its end, where the WebP container spec puts metadata.
 */
export interface StickerMetadata {
  packId: string;
  packName: string;
  publisher: string;
  emojis: string[];
}

const EXIF_FLAG = 0x08;
const ALPHA_FLAG = 0x10;

/** The TIFF structure: little-endian header, one IFD entry (tag 0x5741, type UNDEFINED), then the JSON. */
export function stickerExif(metadata: StickerMetadata): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      "sticker-pack-id": metadata.packId,
      "sticker-pack-name": metadata.packName,
      "sticker-pack-publisher": metadata.publisher,
      emojis: metadata.emojis,
    }),
    "utf8",
  );
  const header = Buffer.alloc(22);
  header.write("II", 0, "latin1"); // little endian
  header.writeUInt16LE(42, 2); // TIFF magic
  header.writeUInt32LE(8, 4); // offset of the first IFD
  header.writeUInt16LE(1, 8); // one entry
  header.writeUInt16LE(0x5741, 10); // tag
  header.writeUInt16LE(7, 12); // type UNDEFINED
  header.writeUInt32LE(json.length, 14); // count
  header.writeUInt32LE(22, 18); // value offset: right after this header (no next-IFD pointer is read)
  return Buffer.concat([header, json]);
}

interface Chunk {
  fourcc: string;
  data: Buffer;
}

function readChunks(webp: Buffer): Chunk[] {
  if (webp.length < 12 || webp.toString("latin1", 0, 4) !== "RIFF" || webp.toString("latin1", 8, 12) !== "WEBP") {
    throw new Error("not a WebP file");
  }
  const chunks: Chunk[] = [];
  let offset = 12;
  while (offset + 8 <= webp.length) {
    const fourcc = webp.toString("latin1", offset, offset + 4);
    const size = webp.readUInt32LE(offset + 4);
    const data = webp.subarray(offset + 8, offset + 8 + size);
    if (data.length !== size) throw new Error(`truncated ${fourcc} chunk`);
    chunks.push({ fourcc, data });
    offset += 8 + size + (size % 2); // chunks are padded to even sizes
  }
  return chunks;
}

function writeChunks(chunks: readonly Chunk[]): Buffer {
  const parts: Buffer[] = [];
  for (const { fourcc, data } of chunks) {
    const head = Buffer.alloc(8);
    head.write(fourcc, 0, "latin1");
    head.writeUInt32LE(data.length, 4);
    parts.push(head, data);
    if (data.length % 2 === 1) parts.push(Buffer.alloc(1));
  }
  const body = Buffer.concat(parts);
  const riff = Buffer.alloc(12);
  riff.write("RIFF", 0, "latin1");
  riff.writeUInt32LE(body.length + 4, 4);
  riff.write("WEBP", 8, "latin1");
  return Buffer.concat([riff, body]);
}

/** Width and height of a simple (VP8 / VP8L) WebP, for the VP8X header it needs once extended. */
function simpleSize(chunk: Chunk): { width: number; height: number; alpha: boolean } {
  if (chunk.fourcc === "VP8 ") {
    return { width: chunk.data.readUInt16LE(6) & 0x3fff, height: chunk.data.readUInt16LE(8) & 0x3fff, alpha: false };
  }
  if (chunk.fourcc === "VP8L") {
    const bits = chunk.data.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1, alpha: ((bits >> 28) & 1) === 1 };
  }
  throw new Error(`unexpected first chunk ${chunk.fourcc}`);
}

export function withExif(webp: Buffer, exif: Buffer): Buffer {
  const chunks = readChunks(webp).filter((chunk) => chunk.fourcc !== "EXIF");
  const first = chunks[0];
  if (!first) throw new Error("empty WebP file");
  if (first.fourcc === "VP8X") {
    const header = Buffer.from(first.data);
    header[0] = (header[0] ?? 0) | EXIF_FLAG;
    return writeChunks([{ fourcc: "VP8X", data: header }, ...chunks.slice(1), { fourcc: "EXIF", data: exif }]);
  }
  const { width, height, alpha } = simpleSize(first);
  const header = Buffer.alloc(10);
  header[0] = EXIF_FLAG | (alpha || chunks.some((c) => c.fourcc === "ALPH") ? ALPHA_FLAG : 0);
  header.writeUIntLE(width - 1, 4, 3);
  header.writeUIntLE(height - 1, 7, 3);
  return writeChunks([{ fourcc: "VP8X", data: header }, ...chunks, { fourcc: "EXIF", data: exif }]);
}
