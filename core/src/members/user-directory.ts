/** Looks up dashboard users (Firebase Auth in production) so members can be added by email. */
export interface UserDirectory {
  findByEmail(email: string): Promise<{ uid: string; email: string | null } | undefined>;
}
