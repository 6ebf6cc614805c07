import type { Auth } from "firebase-admin/auth";

export interface VerifiedUser {
  uid: string;
  email: string | null;
}

/** Turns a Firebase Auth ID token into a user, or throws for any token Firebase would not accept. */
export interface TokenVerifier {
  verify(idToken: string): Promise<VerifiedUser>;
}

export function firebaseTokenVerifier(auth: Auth): TokenVerifier {
  return {
    async verify(idToken) {
      const decoded = await auth.verifyIdToken(idToken);
      return { uid: decoded.uid, email: decoded.email ?? null };
    },
  };
}
