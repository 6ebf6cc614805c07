import { request } from "node:http";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { type SimulatorPhones, startSimulatorPhones } from "../src/transport/simulator/simulator-phones.ts";

const logger = pino({ level: "silent" });
const started: SimulatorPhones[] = [];
afterEach(async () => {
  for (const phones of started.splice(0)) await phones.close();
});

/** GET `path` from the phone API with the Host header a browser would send for `host`. */
function get(url: string, path: string, host: string): Promise<{ status: number; body: unknown }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: { host } }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the simulator's phone API, against other machines and web pages", () => {
  it("answers requests addressed to loopback and refuses any other Host (DNS rebinding)", async () => {
    const phones = await startSimulatorPhones(new SimulatedWhatsApp(), { host: "127.0.0.1", port: 0, logger });
    started.push(phones);
    const { hostname, port } = new URL(phones.url);
    expect(hostname).toBe("127.0.0.1");
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect(await get(phones.url, "/v1/bots", host), host).toEqual({ status: 200, body: [] });
    }
    for (const host of [
      `evil.example:${port}`,
      "evil.example",
      `127.0.0.1:${Number(port) + 1}`,
      `127.0.0.1.nip.io:${port}`,
    ]) {
      const refused = await get(phones.url, "/v1/bots", host);
      expect(refused.status, host).toBe(421);
      expect(refused.body).toMatchObject({ code: "host_not_allowed", message: expect.stringContaining(host) });
    }
  });

  it("refuses to listen anywhere but loopback", async () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
      await expect(startSimulatorPhones(new SimulatedWhatsApp(), { host, port: 0, logger })).rejects.toThrow(
        /loopback only/,
      );
    }
  });
});
