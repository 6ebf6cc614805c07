export type { Account, Device, KeyBundle } from "./accounts/directory.ts";
export type { Group, GroupRole } from "./groups/group.ts";
export type { GroupSetting, ParticipantAction, ParticipantOutcome } from "./groups/group-operations.ts";
export { GroupRefusal, type ParticipantStatus } from "./groups/group-refusals.ts";
export {
  downloadMediaOnPhone,
  type MediaLimits,
  MediaServer,
  type PhoneMediaContent,
  type PhoneMediaDownload,
  PhoneMediaError,
  sendMediaFromPhone,
  uploadMediaFromPhone,
} from "./media/index.ts";
export type { KeyPair } from "./noise/noise-responder.ts";
export type { GroupRoster, PhoneInboxEntry, PhoneNotification, PhoneReceipt } from "./phone/simulated-phone.ts";
export { SimulatedPhone } from "./phone/simulated-phone.ts";
export { type PhoneApi, startPhoneApi } from "./phone-api/phone-api.ts";
export { LocalWhatsApp, type LocalWhatsAppOptions } from "./server/local-whatsapp.ts";
export { loadState, saveStateOnChange } from "./state/state-file.ts";
