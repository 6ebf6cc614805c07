import type { Auth } from "firebase-admin/auth";
import { LRUCache } from "lru-cache";

export interface VerifiedUser {
  uid: string;
  email: string | null;
  /** When the token stops being valid (its `exp`). */
  expiresAtMs: number;
}

/** Turns a Firebase Auth ID token into a user, or throws for any token Firebase would not accept. */
export interface TokenVerifier {
  verify(idToken: string): Promise<VerifiedUser>;
}

export function firebaseTokenVerifier(auth: Auth): TokenVerifier {
  return {
    async verify(idToken) {
      const decoded = await auth.verifyIdToken(idToken);
      return { uid: decoded.uid, email: decoded.email ?? null, expiresAtMs: decoded.exp * 1_000 };
    },
  };
}

/**
 * Reuses a verified token's result for up to `ttlMs` (never past the token's own expiry), the way a
 * production instance would otherwise re-check the same signature on every request of a session.
 * Under the Auth emulator it also saves the account lookup the Admin SDK makes there for every
 * verification. Failures are not cached. `ttlMs: 0` disables it.
 */
export function cachedTokenVerifier(inner: TokenVerifier, { ttlMs, max = 5_000 }: { ttlMs: number; max?: number }) {
  if (ttlMs <= 0) return inner;
  const cache = new LRUCache<string, VerifiedUser>({ max, ttl: ttlMs });
  return {
    async verify(idToken: string): Promise<VerifiedUser> {
      const cached = cache.get(idToken);
      if (cached) return cached;
      const user = await inner.verify(idToken);
      const expiresInMs = user.expiresAtMs - Date.now();
      if (expiresInMs > 0) cache.set(idToken, user, { ttl: Math.min(ttlMs, expiresInMs) });
      return user;
    },
  } satisfies TokenVerifier;
}
