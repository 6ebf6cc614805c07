import type { BinaryNode } from "baileys";
import type { Account, Directory } from "../accounts/directory.ts";
import type { GroupOperations } from "../groups/group-operations.ts";
import type { LinkRegistry } from "../linking/link-registry.ts";
import type { MediaServer } from "../media/media-server.ts";
import type { MessageRouter } from "../messaging/message-router.ts";
import type { SendRefusals } from "../signals/whatsapp-signals.ts";
import type { ClientSession } from "./client-session.ts";

/** What a client session needs of the server around it. */
export interface ServerContext {
  directory: Directory;
  groups: GroupOperations;
  media: MediaServer;
  router: MessageRouter;
  links: LinkRegistry;
  /** Linking queries a registration makes (pairing code); "unhandled" for every other query. */
  linkingQueries(session: ClientSession, iq: BinaryNode): BinaryNode[] | undefined | "unhandled";
  removeCompanion(account: Account, deviceId: number, by?: ClientSession): void;
  /** Message sends the server refuses with 463, per account. */
  refusals: SendRefusals;
  /** A companion logged in while another connection held it: the older one was told 440. */
  loginReplaced(companionJid: string): void;
}
