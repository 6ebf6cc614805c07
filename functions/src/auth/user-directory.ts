import type { UserDirectory } from "@whatsdex/core";
import type { Auth } from "firebase-admin/auth";

/** Members are added by email; Firebase Auth knows which account owns it. */
export function firebaseUserDirectory(auth: Auth): UserDirectory {
  return {
    async findByEmail(email) {
      try {
        const user = await auth.getUserByEmail(email);
        return { uid: user.uid, email: user.email ?? email };
      } catch (error) {
        if (typeof error === "object" && error !== null && "code" in error && error.code === "auth/user-not-found") {
          return undefined;
        }
        throw error;
      }
    },
  };
}
