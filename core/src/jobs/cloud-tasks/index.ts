export { type CloudTasksTarget, cloudTasksTransport } from "./driver.ts";
export { OidcTokenError, type OidcVerifierOptions, oidcVerifier } from "./oidc.ts";
export { type CloudTasksReceiverOptions, cloudTasksReceiver } from "./receiver.ts";
