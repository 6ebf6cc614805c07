import type { UserDirectory } from "@whatsdex/core";
import type { Auth } from "firebase-admin/auth";

/** Accounts as Firebase Auth holds them now (not as an older ID token said). */
export function firebaseUserDirectory(auth: Auth): UserDirectory {
  return {
    async get(uid) {
      try {
        const user = await auth.getUser(uid);
        return { uid: user.uid, email: user.email ?? null, emailVerified: user.emailVerified };
      } catch (error) {
        if (typeof error === "object" && error !== null && "code" in error && error.code === "auth/user-not-found") {
          return undefined;
        }
        throw error;
      }
    },
  };
}
