import sharp from "sharp";
import { decodeError, MAX_INPUT_PIXELS, MediaError, probeImage } from "./media-error.ts";

/** Impact where it is installed, else the nearest common bold condensed sans (DejaVu ships on Debian). */
const FONT_FAMILIES = ["Impact", "Anton", "DejaVu Sans Condensed", "Liberation Sans Narrow", "Arial Narrow"];
/** Words are measured once at this size; widths scale linearly with the font size. */
const REFERENCE_SIZE = 100;
/** The result's longest side at most, and its width at least (small pictures are enlarged so text stays legible). */
const MAX_SIDE = 1280;
const MIN_WIDTH = 480;
const QUALITIES = [85, 75, 60, 45];
/** Each caption gets at most this share of the height (a long one at the smallest size may run over). */
const BAND_SHARE = 0.3;
const LINE_HEIGHT = 1.1;

export interface MemeText {
  top: string;
  bottom: string;
}

export interface Meme {
  data: Buffer;
  mimetype: "image/jpeg";
  width: number;
  height: number;
}

/** A caption laid out: its font size in pixels and its lines, in order. */
export interface CaptionLayout {
  fontSize: number;
  lines: string[];
}

/** What XML 1.0 allows in text; anything else (control characters, lone surrogates) would break the SVG. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Text as SVG character data (or an attribute value, or Pango markup): escaped, with XML-invalid characters dropped. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, "").replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** A caption as it is drawn: one line of words, upper case as memes are. */
export function captionWords(text: string): string[] {
  return text
    .replace(NOT_XML_CHAR, "")
    .toUpperCase()
    .split(/\s+/u)
    .filter((word) => word.length > 0);
}

const graphemes = (word: string) =>
  [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(word)].map((s) => s.segment);

/**
 * Greedy word wrap at one font size, or undefined when a word is wider than the line. With
 * `splitLongWords`, such a word is cut between graphemes instead (its width shared evenly).
 */
function wrap(
  words: readonly string[],
  widthOf: (word: string) => number,
  space: number,
  maxWidth: number,
  splitLongWords: boolean,
): string[] | undefined {
  const lines: string[] = [];
  let line = "";
  let lineWidth = 0;
  const pieces: Array<{ text: string; width: number }> = [];
  for (const word of words) {
    const width = widthOf(word);
    if (width <= maxWidth) {
      pieces.push({ text: word, width });
      continue;
    }
    if (!splitLongWords) return undefined;
    const chars = graphemes(word);
    const perChar = width / chars.length;
    const perPiece = Math.max(1, Math.floor(maxWidth / perChar));
    for (let i = 0; i < chars.length; i += perPiece) {
      const piece = chars.slice(i, i + perPiece);
      pieces.push({ text: piece.join(""), width: piece.length * perChar });
    }
  }
  for (const piece of pieces) {
    if (line && lineWidth + space + piece.width <= maxWidth) {
      line += ` ${piece.text}`;
      lineWidth += space + piece.width;
    } else {
      if (line) lines.push(line);
      line = piece.text;
      lineWidth = piece.width;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The largest font size in [sizes.min, sizes.max] at which the words, wrapped, fit the box; at the
 * smallest size, long words are cut and the lines may run taller than the box. `widths` and
 * `space` are measured at REFERENCE_SIZE. Pure, so it is tested without fonts.
 */
export function layoutCaption(
  words: readonly string[],
  measured: { widths: ReadonlyMap<string, number>; space: number },
  box: { width: number; height: number },
  sizes: { min: number; max: number },
): CaptionLayout {
  if (words.length === 0) return { fontSize: sizes.min, lines: [] };
  const at = (size: number, splitLongWords: boolean) => {
    const k = size / REFERENCE_SIZE;
    const widthOf = (word: string) => (measured.widths.get(word) ?? 0) * k;
    return wrap(words, widthOf, measured.space * k, box.width, splitLongWords);
  };
  let low = sizes.min;
  let high = sizes.max;
  let best: CaptionLayout | undefined;
  while (low <= high) {
    const size = Math.floor((low + high) / 2);
    const lines = at(size, false);
    if (lines && lines.length * size * LINE_HEIGHT <= box.height) {
      best = { fontSize: size, lines };
      low = size + 1;
    } else {
      high = size - 1;
    }
  }
  return best ?? { fontSize: sizes.min, lines: at(sizes.min, true) ?? [] };
}

/** The ink width of `text` at REFERENCE_SIZE, laid out by Pango with the fonts librsvg will use for the SVG. */
async function measure(text: string): Promise<number> {
  const font = `${FONT_FAMILIES.join(",")} Bold ${REFERENCE_SIZE}`;
  const { info } = await sharp({ text: { text: escapeXml(text), font, dpi: 72 } })
    .png()
    .toBuffer({ resolveWithObject: true });
  return info.width;
}

async function measureWords(words: readonly string[]) {
  const widths = new Map<string, number>();
  for (const word of new Set(words)) widths.set(word, await measure(word));
  // Pango crops to the ink, so a space is what "M M" has over "MM".
  const space = (await measure("M M")) - (await measure("MM"));
  if (space <= 0) {
    // Without any font the text would silently not be drawn: a broken runner image, not the user's fault.
    throw new Error(
      `No font renders meme text; install one of ${FONT_FAMILIES.join(", ")} (Debian: fonts-dejavu-core).`,
    );
  }
  return { widths, space };
}

function captionSvg(layout: CaptionLayout, position: "top" | "bottom", width: number, height: number): string {
  const { fontSize, lines } = layout;
  const lineHeight = fontSize * LINE_HEIGHT;
  const pad = height * 0.03;
  // Baselines: capitals stand about 0.8 em above theirs.
  const first =
    position === "top" ? pad + fontSize * 0.85 : height - pad - fontSize * 0.15 - (lines.length - 1) * lineHeight;
  return lines
    .map((line, i) => `<text x="${width / 2}" y="${(first + i * lineHeight).toFixed(1)}">${escapeXml(line)}</text>`)
    .join("");
}

function overlaySvg(width: number, height: number, top: CaptionLayout, bottom: CaptionLayout): string {
  const family = FONT_FAMILIES.map((f) => `'${f}'`).join(", ");
  const text = (layout: CaptionLayout, position: "top" | "bottom") =>
    layout.lines.length === 0
      ? ""
      : `<g font-size="${layout.fontSize}" stroke-width="${Math.max(2, layout.fontSize / 8).toFixed(1)}">${captionSvg(layout, position, width, height)}</g>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="${family}, sans-serif" font-weight="bold" text-anchor="middle" fill="#ffffff" stroke="#000000" stroke-linejoin="round" paint-order="stroke">` +
    `${text(top, "top")}${text(bottom, "bottom")}</g></svg>`
  );
}

/** The size the picture is drawn at: longest side at most MAX_SIDE, enlarged to MIN_WIDTH where that allows. */
function targetSize(width: number, height: number) {
  const scale = Math.min(MAX_SIDE / Math.max(width, height), Math.max(1, MIN_WIDTH / width));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * An image and a top and/or bottom caption → a classic meme: white bold capitals with a black
 * outline, each caption wrapped and sized to fit its band, drawn as an SVG overlay. JPEG (a photo's
 * format), at the best quality under `maxBytes`. An animated image gives its first frame.
 */
export async function makeMeme(input: Buffer, text: MemeText, { maxBytes }: { maxBytes: number }): Promise<Meme> {
  const info = await probeImage(input);
  const oriented = info.autoOrient;
  const { width, height } = targetSize(oriented.width, info.pageHeight ?? oriented.height);
  const top = captionWords(text.top);
  const bottom = captionWords(text.bottom);
  const measured = await measureWords([...top, ...bottom]);
  const min = Math.max(12, Math.round(width * 0.03));
  const sizes = { min, max: Math.max(min, Math.round(Math.min(height * 0.15, width * 0.14))) };
  // The outline is half outside the letters: leave it room at the sides.
  const box = { width: width * 0.94 - sizes.max / 8, height: height * BAND_SHARE };
  const fit = (words: string[]) => layoutCaption(words, measured, box, sizes);
  const overlay = Buffer.from(overlaySvg(width, height, fit(top), fit(bottom)));

  let base: Buffer;
  try {
    base = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, autoOrient: true })
      .resize(width, height, { fit: "fill" })
      .flatten({ background: "#ffffff" })
      .png({ compressionLevel: 0 })
      .toBuffer();
  } catch (error) {
    throw decodeError(error, "The image could not be decoded.");
  }
  for (const quality of QUALITIES) {
    const data = await sharp(base)
      .composite([{ input: overlay, top: 0, left: 0 }])
      .jpeg({ quality })
      .toBuffer();
    if (data.length <= maxBytes) return { data, mimetype: "image/jpeg", width, height };
  }
  throw new MediaError(
    "result_too_large",
    `The meme is over ${maxBytes} bytes even at JPEG quality ${QUALITIES.at(-1)}.`,
  );
}
