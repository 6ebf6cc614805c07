import type { Registration } from "../server/client-session.ts";

/** A companion that asked to be linked by pairing code: waiting for the phone to enter it. */
export interface CodeRequest {
  registration: Registration;
  /** The number the user typed into the companion (digits). */
  pn: string;
  wrappedCompanionEphemeral: Uint8Array;
  ref: string;
}

/** Companions waiting to be linked: by the refs their QR codes show, and by the number a pairing code was asked for. */
export class LinkRegistry {
  readonly #byRef = new Map<string, Registration>();
  readonly #codes = new Map<Registration, CodeRequest>();

  add(registration: Registration): void {
    for (const ref of registration.refs) this.#byRef.set(ref, registration);
  }

  remove(registration: Registration): void {
    for (const ref of registration.refs) this.#byRef.delete(ref);
    this.#codes.delete(registration);
  }

  byRef(ref: string): Registration | undefined {
    return this.#byRef.get(ref);
  }

  requestCode(request: CodeRequest): void {
    this.#codes.set(request.registration, request);
  }

  /** The companions that asked for a pairing code for this number, newest last. */
  codeRequestsFor(pn: string): CodeRequest[] {
    return [...this.#codes.values()].filter((request) => request.pn === pn);
  }

  /** Every companion waiting for a pairing code, oldest first. */
  codeRequests(): CodeRequest[] {
    return [...this.#codes.values()];
  }

  codeRequestOf(registration: Registration): CodeRequest | undefined {
    return this.#codes.get(registration);
  }

  get pending(): number {
    return new Set(this.#byRef.values()).size;
  }
}
