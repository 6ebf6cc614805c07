import { type Principal, UnauthenticatedError } from "@whatsdex/core";
import type { Request } from "express";
import type { ApiServices } from "./services.ts";

export type AuthMode = "user" | "user-or-api-key";

/**
 * The caller, from `Authorization: Bearer <Firebase ID token>` or `X-Api-Key`. API keys belong to
 * one tenant, so they are only accepted on routes under `/tenants/{tenantId}`.
 */
export async function authenticate(
  req: Request,
  services: ApiServices,
  mode: AuthMode,
  tenantId: string | undefined,
): Promise<Principal> {
  const apiKey = req.get("x-api-key");
  if (apiKey !== undefined) {
    if (mode === "user" || tenantId === undefined) {
      throw new UnauthenticatedError(
        "This route needs a signed-in user (Authorization: Bearer <ID token>), not an API key.",
      );
    }
    return services.apiKeys.authenticate(tenantId, apiKey);
  }
  const header = req.get("authorization");
  const token = header?.match(/^Bearer (\S+)$/i)?.[1];
  if (!token) {
    throw new UnauthenticatedError(
      mode === "user"
        ? "Sign in: send Authorization: Bearer <Firebase ID token>."
        : "Send Authorization: Bearer <Firebase ID token>, or X-Api-Key: <tenant API key>.",
    );
  }
  try {
    const user = await services.tokens.verify(token);
    return { kind: "user", uid: user.uid, email: user.email };
  } catch (error) {
    throw new UnauthenticatedError("The ID token is not valid or has expired; sign in again.", { cause: error });
  }
}
