import { connect } from "node:net";

export interface Reachability {
  reachable: boolean;
  error?: string;
}

/**
 * Whether something accepts connections at `host:port` (the Firestore emulator). Not a Firestore
 * read: the SDK retries a read it cannot deliver for most of a minute and cannot cancel it, which
 * would keep the TUI's process alive that long after `q`. Listener errors cover the rest.
 */
export function tcpProbe(address: string, timeoutMs: number): () => Promise<Reachability> {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return () =>
    new Promise((resolve) => {
      if (!match?.[1] || !match[2]) {
        resolve({ reachable: false, error: `not host:port: ${address}` });
        return;
      }
      const socket = connect({ host: match[1], port: Number(match[2]) });
      const done = (result: Reachability) => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(timeoutMs, () => done({ reachable: false, error: `no answer within ${timeoutMs} ms` }));
      socket.once("connect", () => done({ reachable: true }));
      socket.once("error", (error: NodeJS.ErrnoException) =>
        done({ reachable: false, error: error.code ?? error.message }),
      );
    });
}
