export {
  afterOutcome,
  afterResume,
  afterSignal,
  cappingStops,
  decide,
  type PacingDecision,
  type PacingRequest,
  type SendOutcome,
  type Step,
  type WaitReason,
  waitReasons,
} from "./governor.ts";
export {
  type GovernorState,
  governorStateSchema,
  initialGovernorState,
  type StopReason,
  stopReasons,
} from "./governor-state.ts";
export { type BotGovernor, GovernorStore, type GovernorStoreOptions } from "./governor-store.ts";
export {
  type BuiltInProfileName,
  builtInProfileNames,
  builtInProfiles,
  type CappingStatus,
  cappingStatuses,
  type PacingOverrides,
  type PacingProfile,
  pacingOverridesSchema,
  pacingProfileSchema,
  stricterOf,
} from "./profile.ts";
export { isTimeZone, type QuietHours, quietUntil, timeZoneSchema } from "./quiet-hours.ts";
export { gaussianBetween, type Random, seededRandom } from "./random.ts";
export { type WhatsAppSignal, whatsAppSignalSchema } from "./signals.ts";
export { ageInDays, DAY_MS, dailyBudget } from "./warmup.ts";
