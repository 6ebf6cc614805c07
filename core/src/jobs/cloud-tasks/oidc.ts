import { OAuth2Client } from "google-auth-library";

export interface OidcVerifierOptions {
  /** The audience the tasks' OIDC tokens are minted for (the receiver's URL, usually). */
  audience: string;
  /** The service account Cloud Tasks signs as; a token for any other identity is refused. */
  serviceAccountEmail: string;
  /** Signing certificates by key id. Default: Google's, fetched and cached by google-auth-library. */
  certs?: () => Promise<Record<string, string>>;
}

const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];

export class OidcTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OidcTokenError";
  }
}

/**
 * Verifies the OIDC token Cloud Tasks attaches to each HTTP task: signature (Google's keys),
 * issuer, audience, expiry, and that it names our service account with a verified email.
 */
export function oidcVerifier(options: OidcVerifierOptions): (authorization: string | undefined) => Promise<void> {
  const client = new OAuth2Client();
  const certs = options.certs ?? (async () => (await client.getFederatedSignonCertsAsync()).certs);
  return async (authorization) => {
    const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (!token) throw new OidcTokenError("missing bearer token");
    let payload: { email?: string; email_verified?: boolean } | undefined;
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(token, await certs(), options.audience, GOOGLE_ISSUERS);
      payload = ticket.getPayload();
    } catch (error) {
      throw new OidcTokenError(error instanceof Error ? error.message : "invalid token", { cause: error });
    }
    if (payload?.email !== options.serviceAccountEmail || payload.email_verified !== true) {
      throw new OidcTokenError(`token is not for ${options.serviceAccountEmail}`);
    }
  };
}
