import type { BinaryNode } from "baileys";
import type { Account, Directory } from "../accounts/directory.ts";
import type { LinkRegistry } from "../linking/link-registry.ts";
import type { MessageRouter } from "../messaging/message-router.ts";
import type { ClientSession } from "./client-session.ts";

/** What a client session needs of the server around it. */
export interface ServerContext {
  directory: Directory;
  router: MessageRouter;
  links: LinkRegistry;
  /** Linking queries a registration makes (pairing code); "unhandled" for every other query. */
  linkingQueries(session: ClientSession, iq: BinaryNode): BinaryNode[] | undefined | "unhandled";
  removeCompanion(account: Account, deviceId: number, by?: ClientSession): void;
  /** A companion logged in while another connection held it: the older one was told 440. */
  loginReplaced(companionJid: string): void;
}
