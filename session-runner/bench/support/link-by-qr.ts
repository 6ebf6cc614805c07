import { linkingCodesSchema, linkingPath } from "@whatsdex/core";
import { PhoneApiError } from "@whatsdex/core/phone-api";
import { waitFor } from "@whatsdex/core/testing";
import type { Firestore } from "firebase-admin/firestore";
import type { PhoneDriver } from "./phone-driver.ts";
import type { HeldBot } from "./round-trips.ts";

/**
 * Links one bot the way a person does: reads the QR code its runner wrote to `linking/current` and
 * scans it with the owner's phone (`bot.number`). A code that rotated between the read and the scan
 * is refused; the next one is read and scanned.
 */
export async function linkByQr(db: Firestore, driver: PhoneDriver, bot: HeldBot): Promise<void> {
  const doc = db.doc(linkingPath(bot.tenantId, bot.botId));
  let tried: string | undefined;
  await waitFor(
    `bot ${bot.botId} linked`,
    async () => {
      const code = linkingCodesSchema.safeParse((await doc.get()).data()).data?.qr?.code;
      if (code === undefined || code === tried) return undefined;
      tried = code;
      try {
        await driver.link(code, bot.number);
        return true;
      } catch (error) {
        if (error instanceof PhoneApiError && error.code === "qr_not_found") return undefined;
        throw error;
      }
    },
    { timeoutMs: 300_000, intervalMs: 250 },
  );
}
