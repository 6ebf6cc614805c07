import { makeWASocket, type UserFacingSocketConfig } from "baileys";
import type { ConnectOptions, Transport, TransportSocket } from "../transport.ts";
import { downloadWhatsAppMedia } from "./media-download.ts";

export interface BaileysMediaOptions {
  /** Media hosts (origins) files may be downloaded from: WhatsApp's unless a test says otherwise. */
  origins?: readonly string[];
  timeoutMs?: number;
}

/**
 * The production transport: one Baileys 7 socket per connection. Options that decide whether a
 * session survives (BAILEYS.md) are fixed here rather than left to each caller.
 */
export function baileysTransport(
  overrides: Partial<Pick<UserFacingSocketConfig, "waWebSocketUrl" | "connectTimeoutMs">> = {},
  media: BaileysMediaOptions = {},
): Transport {
  return {
    connect(options: ConnectOptions): TransportSocket {
      const socket = makeWASocket({
        auth: options.auth,
        logger: options.logger,
        getMessage: options.getMessage,
        cachedGroupMetadata: options.cachedGroupMetadata,
        ...(options.msgRetryCounterCache ? { msgRetryCounterCache: options.msgRetryCounterCache } : {}),
        // Keep the phone's notifications: the bot is not the user's active client.
        markOnlineOnConnect: false,
        syncFullHistory: false,
        ...overrides,
      });
      return {
        on: (event, listener) => {
          socket.ev.on(event, listener);
        },
        onFrame: (listener) => {
          socket.ws.on("frame", () => listener());
        },
        sendMessage: (jid, content, sendOptions) => socket.sendMessage(jid, content, sendOptions),
        requestPairingCode: (phoneNumber) => socket.requestPairingCode(phoneNumber),
        groupMetadata: (jid) => socket.groupMetadata(jid),
        groupParticipantsUpdate: async (jid, participants, action) =>
          (await socket.groupParticipantsUpdate(jid, participants, action)).map((result) => ({
            jid: result.jid ?? "",
            status: result.status,
          })),
        groupInviteCode: (jid) => socket.groupInviteCode(jid),
        groupRevokeInvite: (jid) => socket.groupRevokeInvite(jid),
        groupUpdateSubject: (jid, subject) => socket.groupUpdateSubject(jid, subject),
        groupUpdateDescription: (jid, description) => socket.groupUpdateDescription(jid, description),
        sendPresenceUpdate: (presence, jid) => socket.sendPresenceUpdate(presence, jid),
        // Not Baileys' downloadMediaMessage: it fetches a message's `url` (any host the sender names,
        // redirects followed) and buffers the whole body. An expired file is re-requested from the
        // sender's phone once.
        downloadMedia: (message, limits) =>
          downloadWhatsAppMedia(message, {
            ...limits,
            timeoutMs: media.timeoutMs ?? 30_000,
            ...(media.origins ? { origins: media.origins } : {}),
            reupload: socket.updateMediaMessage,
          }),
        logout: () => socket.logout(),
        end: (error) => socket.end(error),
      };
    },
  };
}
