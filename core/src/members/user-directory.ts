/** A dashboard account as the identity provider (Firebase Auth in production) knows it now. */
export interface DirectoryUser {
  uid: string;
  email: string | null;
  /** Whether the account proved it owns `email`; an unverified address is only a claim. */
  emailVerified: boolean;
}

/** Looks up dashboard users, so that membership is granted only to accounts that exist and prove their email. */
export interface UserDirectory {
  get(uid: string): Promise<DirectoryUser | undefined>;
}
