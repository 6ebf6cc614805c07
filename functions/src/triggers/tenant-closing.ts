import type { Tracer } from "@opentelemetry/api";
import { type CancelSubscription, ClosingRunner, inSpan, type Logger, type MediaStore } from "@whatsdex/core";
import type { Firestore } from "firebase-admin/firestore";

export interface TenantClosingDeps {
  firebase: { firestore: Firestore };
  media: MediaStore;
  logger: Logger;
  tracing: { tracer: Tracer };
  /** Stripe's cancellation (BillingService.cancelAll), built by the composition root. */
  cancelSubscription: CancelSubscription;
}

/** A closing untouched this long is taken up by the sweep: its run died, or a step failed. */
export const CLOSING_STALE_MS = 10 * 60_000;

function runnerOf(deps: TenantClosingDeps): ClosingRunner {
  return new ClosingRunner({
    db: deps.firebase.firestore,
    media: deps.media,
    cancelSubscription: deps.cancelSubscription,
    logger: deps.logger,
  });
}

/**
 * Runs for each new `tenantDeletions/{t}` record, at least once: a redelivered trigger finds the
 * closing claimed or done. A failure is recorded on the closing and left to the sweep.
 */
export async function startClosing(deps: TenantClosingDeps, params: { tenantId: string }): Promise<void> {
  const { tenantId } = params;
  await inSpan(deps.tracing.tracer, "trigger onTenantClosing", { "whatsdex.tenant_id": tenantId }, async () => {
    try {
      const outcome = await runnerOf(deps).run(tenantId);
      deps.logger.info({ tenantId, outcome }, "account closing ran");
    } catch (error) {
      deps.logger.error({ err: error, tenantId }, "account closing failed; the sweep retries it");
    }
  });
}

/** The scheduled sweep: resumes every closing a crash or a failure left unfinished. */
export async function sweepClosings(
  deps: TenantClosingDeps,
  options: { staleMs?: number; onlyTenants?: readonly string[] } = {},
): Promise<string[]> {
  return inSpan(deps.tracing.tracer, "schedule sweepTenantClosings", {}, async () => {
    const resumed = await runnerOf(deps).sweep({
      staleMs: options.staleMs ?? CLOSING_STALE_MS,
      ...(options.onlyTenants ? { onlyTenants: options.onlyTenants } : {}),
    });
    if (resumed.length > 0) deps.logger.info({ tenantIds: resumed }, "resumed unfinished account closings");
    return resumed;
  });
}
