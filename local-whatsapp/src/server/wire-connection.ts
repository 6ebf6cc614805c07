import {
  type BinaryNode,
  binaryNodeToString,
  decodeBinaryNode,
  encodeBinaryNode,
  NOISE_WA_HEADER,
  type proto,
} from "baileys";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { ServerIdentity } from "../noise/certificates.ts";
import { NoiseResponder, type NoiseTransport } from "../noise/noise-responder.ts";

export interface ClientHello {
  /** The companion's Noise static key (`creds.noiseKey.public`). */
  clientStatic: Uint8Array;
  payload: proto.ClientPayload;
}

export interface ConnectionHandlers {
  onHello(hello: ClientHello): void;
  onNode(node: BinaryNode): Promise<void> | void;
}

/**
 * One client on the wire: WhatsApp Web's framing (a 4-byte intro header once, then frames of a
 * 3-byte length and a body), the Noise handshake, then encrypted binary nodes both ways. Nodes are
 * handled one at a time, in the order they arrived.
 */
export class WireConnection {
  #buffer: Buffer = Buffer.alloc(0);
  #introSeen = false;
  #phase: "hello" | "finish" | "open" | "closed" = "hello";
  #transport: NoiseTransport | undefined;
  readonly #noise: NoiseResponder;
  #queue: Promise<void> = Promise.resolve();
  readonly #closeListeners: Array<() => void> = [];

  readonly #ws: WebSocket;
  readonly #logger: Logger;
  readonly #handlers: ConnectionHandlers;

  constructor(ws: WebSocket, identity: ServerIdentity, logger: Logger, handlers: ConnectionHandlers) {
    this.#ws = ws;
    this.#logger = logger;
    this.#handlers = handlers;
    this.#noise = new NoiseResponder(identity.staticKey, identity.certificateChain);
    ws.on("message", (data: Buffer) => this.#receive(data));
    ws.on("close", () => this.#closed());
    ws.on("error", (error) => {
      logger.debug({ err: error }, "client socket error");
      this.#closed();
    });
  }

  get isOpen(): boolean {
    return this.#phase === "open";
  }

  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  send(node: BinaryNode): void {
    if (this.#phase !== "open" || !this.#transport) return;
    if (this.#logger.isLevelEnabled("trace")) this.#logger.trace({ xml: binaryNodeToString(node) }, "server → client");
    this.#sendFrame(this.#transport.encrypt(encodeBinaryNode(node)));
  }

  /** Sends `<stream:error>` (or `<failure>`) and hangs up, as WhatsApp ends a session. */
  endWith(node: BinaryNode): void {
    this.send(node);
    this.close();
  }

  close(): void {
    if (this.#phase === "closed") return;
    this.#ws.close();
    this.#closed();
  }

  /** Drops the TCP connection without a word: a network failure. */
  drop(): void {
    this.#ws.terminate();
    this.#closed();
  }

  #closed(): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  #sendFrame(body: Uint8Array): void {
    const frame = Buffer.alloc(3 + body.byteLength);
    frame.writeUIntBE(body.byteLength, 0, 3);
    frame.set(body, 3);
    this.#ws.send(frame);
  }

  #receive(data: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    if (!this.#introSeen) {
      if (this.#buffer.length < NOISE_WA_HEADER.length) return;
      if (!this.#buffer.subarray(0, NOISE_WA_HEADER.length).equals(NOISE_WA_HEADER)) {
        this.#logger.warn("client did not open with WhatsApp's intro header; hanging up");
        this.close();
        return;
      }
      this.#introSeen = true;
      this.#buffer = this.#buffer.subarray(NOISE_WA_HEADER.length);
    }
    while (this.#buffer.length >= 3) {
      const size = this.#buffer.readUIntBE(0, 3);
      if (this.#buffer.length < 3 + size) return;
      const frame = this.#buffer.subarray(3, 3 + size);
      this.#buffer = this.#buffer.subarray(3 + size);
      try {
        this.#frame(frame);
      } catch (error) {
        this.#logger.warn({ err: error }, "bad frame from client; hanging up");
        this.close();
        return;
      }
    }
  }

  #frame(frame: Buffer): void {
    switch (this.#phase) {
      case "hello":
        this.#sendFrame(this.#noise.respondToHello(frame).serverHello);
        this.#phase = "finish";
        return;
      case "finish": {
        const { clientStatic, payload, transport } = this.#noise.finish(frame);
        this.#transport = transport;
        this.#phase = "open";
        this.#handlers.onHello({ clientStatic, payload });
        return;
      }
      case "open": {
        const transport = this.#transport;
        if (!transport) return;
        // Decrypt now (the counter is per frame, in order); decode and handle in arrival order.
        const plaintext = transport.decrypt(frame);
        this.#queue = this.#queue.then(async () => {
          if (this.#phase !== "open") return;
          try {
            const node = await decodeBinaryNode(plaintext);
            if (this.#logger.isLevelEnabled("trace"))
              this.#logger.trace({ xml: binaryNodeToString(node) }, "client → server");
            await this.#handlers.onNode(node);
          } catch (error) {
            this.#logger.error({ err: error }, "handling a node from the client failed");
          }
        });
        return;
      }
      case "closed":
        return;
    }
  }
}
