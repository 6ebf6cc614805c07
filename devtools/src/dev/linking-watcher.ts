import { linkingCodesSchema } from "@whatsdex/core";
import QRCode from "qrcode";
import { collectionGroup, readDocument } from "./firestore-rest.ts";

/**
 * Shows, on `npm run dev`'s terminal, every QR code and pairing code a bot is waiting to be linked
 * with — read from the same `linking/current` documents the dashboard shows — so a real phone can
 * scan a Baileys bot's code right there. Polls every two seconds; stop with the returned function.
 */
export function watchLinking(options: {
  firestoreHost: string;
  projectId: string;
  print: (text: string) => void;
  /** Bots linked by the script itself (the demo bot): not shown. */
  skip: (path: string) => boolean;
  phonesUrl: string;
}): () => void {
  const shown = new Map<string, string>();
  let running = true;
  const tick = async () => {
    const documents = await collectionGroup(options.firestoreHost, options.projectId, "linking");
    for (const { path, data } of documents) {
      const botPath = path.replace(/\/linking\/current$/, "");
      if (options.skip(botPath)) continue;
      const linking = linkingCodesSchema.safeParse(data);
      const code = linking.success ? (linking.data.qr?.code ?? linking.data.pairingCode?.code) : undefined;
      if (!code || shown.get(botPath) === code) continue;
      shown.set(botPath, code);
      const bot = await readDocument(options.firestoreHost, options.projectId, botPath);
      const name = typeof bot?.name === "string" ? bot.name : botPath;
      const transport = bot?.transport === "simulator" ? "simulator" : "baileys";
      if (linking.data?.pairingCode) {
        options.print(
          `[linking] ${name} (${botPath}): pairing code ${code} — WhatsApp › Linked devices › Link with phone number`,
        );
        continue;
      }
      const art = await QRCode.toString(code, { type: "terminal", small: true });
      const how =
        transport === "baileys"
          ? "scan it with WhatsApp › Linked devices › Link a device (it changes every 20 s; the newest is shown)"
          : `a simulator bot: link it with curl -s -X POST ${options.phonesUrl}/v1/link -H 'content-type: application/json' -d '{"qr":"${code}","number":"15550100077"}'`;
      options.print(`[linking] ${name} (${botPath}) shows a QR code; ${how}\n${art}`);
    }
  };
  void (async () => {
    while (running) {
      await tick().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
    }
  })();
  return () => {
    running = false;
  };
}
