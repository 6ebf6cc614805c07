import { once } from "node:events";
import { createServer, type RequestListener } from "node:http";

/** Serves an app (Express, or any request listener) on a free loopback port, so tests speak real HTTP to it. */
export async function serve(app: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
