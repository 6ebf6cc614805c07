import { type LocalStripe, startLocalStripe } from "../../core/src/testing/stripe/server.ts";
import { LOCAL_SECRETS } from "./emulators.ts";

/** What the Functions emulator is told about Stripe (its keys are the emulator's local secrets). */
export interface StripeEnv {
  STRIPE_API_URL: string;
}

export interface LocalStripeHandle {
  env: StripeEnv;
  url: string;
  /** Where its events go: the emulated `stripeWebhook`, known once the emulators are up. */
  setWebhookUrl(url: string): void;
  stop(): Promise<void>;
}

/**
 * The local Stripe for `npm test` and `npm run dev`, in this process: the functions' real Stripe SDK
 * talks to it (STRIPE_API_URL) and it signs its events with the emulator's STRIPE_WEBHOOK_SECRET, so
 * the `stripeWebhook` function verifies them as it would Stripe's.
 */
export async function provideStripe(options: { port: number }): Promise<LocalStripeHandle> {
  const local: LocalStripe = await startLocalStripe({
    port: options.port,
    webhookSecret: LOCAL_SECRETS.STRIPE_WEBHOOK_SECRET,
  });
  return {
    env: { STRIPE_API_URL: local.url },
    url: local.url,
    setWebhookUrl: (url) => local.setWebhookUrl(url),
    stop: () => local.stop(),
  };
}
