import QRCode from "qrcode";

/**
 * A QR code as lines of half-block characters, two modules a character, light modules drawn as
 * `█`: shown white on black (see the linking pane), it scans the same on dark and light terminals.
 * Error correction L keeps a Baileys code (≈240 characters) at 53 modules, 29 lines with its margin.
 */
export async function qrLines(code: string): Promise<string[]> {
  const text = await QRCode.toString(code, {
    type: "utf8",
    errorCorrectionLevel: "L",
    margin: 2,
    // Swapping the colours makes the renderer draw light modules (`█`) and leave dark ones blank.
    color: { dark: "#ffffff", light: "#000000" },
  });
  return text.split("\n").filter((line) => line.length > 0);
}
