import { ValidationError } from "../errors/domain-error.ts";
import type { Plan } from "../plans/plan-catalog.ts";

/** A bot's `settings.ai.model` must be one of its tenant's plan's models; the error lists them. */
export function assertAiModelAllowed(plan: Plan, model: string): void {
  if (plan.aiModels.some((allowed) => allowed === model)) return;
  const allowed = plan.aiModels.join(", ");
  throw new ValidationError(`The ${plan.name} plan's bots may use these AI models: ${allowed}.`, [
    { path: "settings.ai.model", message: `must be one of ${allowed} on the ${plan.name} plan` },
  ]);
}
