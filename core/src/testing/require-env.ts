/**
 * Tests that need a service read where it is from the environment `npm test` sets up. When it is
 * missing the test fails with this message; it never skips, so a green run means the service was
 * really exercised.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value) return value;
  throw new Error(
    `${name} is not set. Run the tests with \`npm test\`, which starts the Firebase emulators and Redis and sets it.`,
  );
}
