import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { LocalWhatsApp } from "../src/server/local-whatsapp.ts";
import { Companion } from "./support/companion.ts";

let server: LocalWhatsApp | undefined;
afterEach(async () => {
  await server?.close();
});

describe("queries the server does not serve", () => {
  it("are refused at once with 501 naming the query, and logged, never left to time out", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await LocalWhatsApp.start({ logger: pino({ level: "warn" }, sink) });
    const owner = await server.createPhone("6281900000001", "Owner");
    const bot = new Companion(server);
    bot.connect();
    const { qr } = await bot.next("connection.update", (u) => typeof u.qr === "string");
    await server.scanQr(owner, qr ?? "");
    await bot.next("connection.update", (u) => u.connection === "close");
    const mark = bot.events.length;
    const socket = bot.connect();
    await bot.next("connection.update", (u) => u.connection === "open", { since: mark });

    const started = Date.now();
    const refused = await socket
      .query({
        tag: "iq",
        attrs: { to: "s.whatsapp.net", type: "get", xmlns: "w:nonexistent" },
        content: [{ tag: "thing", attrs: {} }],
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    // Baileys' own query timeout is a minute: an answer within seconds is the server's, not a timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(refused).toMatchObject({ data: 501 });
    expect(String(refused)).toMatch(/feature-not-implemented \(w:nonexistent\/thing\)/);
    const warning = lines.find((line) => line.includes("does not answer this query yet"));
    expect(warning).toMatch(/w:nonexistent/);
    bot.end();
  });
});

describe("a companion waiting to be linked", () => {
  it("has its keep-alive pings answered, as WhatsApp answers them while the QR code shows", async () => {
    server = await LocalWhatsApp.start();
    const bot = new Companion(server);
    const socket = bot.connect();
    await bot.next("connection.update", (u) => typeof u.qr === "string");
    const pong = await socket.query({
      tag: "iq",
      attrs: { to: "s.whatsapp.net", type: "get", xmlns: "w:p" },
      content: [{ tag: "ping", attrs: {} }],
    });
    expect(pong.attrs.type).toBe("result");
    bot.end();
  });
});
