import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedAddress } from "../src/net/address-policy.ts";
import { OutboundHttp, OutboundRequestError } from "../src/net/ssrf-guard.ts";

/** A local server standing for a tenant's endpoint: each path behaves one way. */
let server: Server;
let port: number;
const seen: Array<{ path: string; method: string; host: string | undefined; body: string }> = [];
const hanging = new Set<ServerResponse>();

beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({
      path: req.url ?? "",
      method: req.method ?? "",
      host: req.headers.host,
      body: Buffer.concat(chunks).toString(),
    });
    if (req.url === "/redirect") {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end("moved");
    } else if (req.url === "/large") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(1_000_000, 0x61));
    } else if (req.url === "/hang") {
      hanging.add(res);
      res.writeHead(200);
      res.write("partial");
    } else if (req.url === "/silent") {
      hanging.add(res);
    } else {
      res.writeHead(201, { "content-type": "text/plain", "x-echo": req.headers["x-test"] ?? "" });
      res.end(`got ${req.method} ${Buffer.concat(chunks).toString()}`);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  server.close();
  await once(server, "close");
});

async function refusal(http: OutboundHttp, url: string): Promise<OutboundRequestError> {
  const error = await http.request({ url }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OutboundRequestError)) throw new Error(`expected ${url} to be refused, got ${String(error)}`);
  return error;
}

describe("address policy", () => {
  const production = { allowPrivate: false };
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.10", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["169.254.169.254", "link-local"],
    ["169.254.1.1", "link-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.7", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.7", "reserved"],
    ["198.18.0.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    // IPv6 spellings of refused IPv4 addresses are judged by the IPv4 address they carry.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:10.0.0.1", "private"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b:1::a00:1", "private"],
    ["2002:7f00:1::", "loopback"],
    ["2002:a9fe:a9fe::1", "link-local"],
    ["::127.0.0.1", "loopback"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
  ])("refuses %s (%s)", (address, why) => {
    expect(refusedAddress(address, production)).toContain(why);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "142.250.180.14",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
  ])("allows the public address %s", (address) => {
    expect(refusedAddress(address, production)).toBeNull();
  });

  it("lets private and loopback through with allowPrivate, but never link-local or the metadata server", () => {
    const dev = { allowPrivate: true };
    for (const address of [
      "127.0.0.1",
      "::1",
      "10.0.0.1",
      "192.168.1.1",
      "100.64.0.1",
      "fd00::1",
      "::ffff:127.0.0.1",
    ]) {
      expect(refusedAddress(address, dev)).toBeNull();
    }
    for (const address of ["169.254.169.254", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "fe80::1", "0.0.0.0"]) {
      expect(refusedAddress(address, dev)).not.toBeNull();
    }
  });
});

describe("OutboundHttp", () => {
  const production = new OutboundHttp();
  const dev = new OutboundHttp({ allowPrivate: true });

  it("refuses a name that resolves to loopback (localhost), naming the address", async () => {
    const error = await refusal(production, `http://localhost:${port}/`);
    expect(error.code).toBe("blocked_address");
    expect(error.message).toMatch(/(127\.0\.0\.1|::1) is a loopback address \(localhost resolves to it\)/);
    expect(seen.some((s) => s.host === `localhost:${port}`)).toBe(false);
  });

  it.each([
    "http://127.0.0.1/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://169.254.169.254/computeMetadata/v1/",
    "http://10.0.0.8:8080/",
  ])("refuses the IP literal %s", async (url) => {
    expect((await refusal(production, url)).code).toBe("blocked_address");
  });

  it("refuses the metadata server by name and by address even with allowPrivate", async () => {
    for (const url of [
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://METADATA.google.internal./",
      "http://metadata/computeMetadata/v1/",
      "http://169.254.169.254/",
      "http://[fe80::1]/",
    ]) {
      const error = await refusal(dev, url);
      expect(error.code).toBe("blocked_address");
    }
    expect((await refusal(dev, "http://metadata.google.internal/")).message).toContain("metadata server");
  });

  it("refuses a name when any of its addresses is refused", async () => {
    const http = new OutboundHttp({ resolve: async () => ["93.184.215.14", "10.0.0.1"] });
    const error = await refusal(http, "https://mixed.example/");
    expect(error.code).toBe("blocked_address");
    expect(error.message).toContain("10.0.0.1 is a private (RFC 1918) address (mixed.example resolves to it)");
  });

  it("refuses URLs that are not plain http(s)", async () => {
    for (const url of ["ftp://example.com/", "file:///etc/passwd", "not a url", "http://user:pw@example.com/"]) {
      expect((await refusal(production, url)).code).toBe("invalid_url");
    }
  });

  it("reaches a local server with allowPrivate, sending method, headers and body", async () => {
    const response = await dev.request({
      url: `http://127.0.0.1:${port}/echo`,
      method: "POST",
      headers: { "x-test": "hello", "content-type": "application/json" },
      body: '{"a":1}',
    });
    expect(response.status).toBe(201);
    expect(response.headers["x-echo"]).toBe("hello");
    expect(response.body.toString()).toBe('got POST {"a":1}');
    expect(response.truncated).toBe(false);
    expect(response.address).toBe("127.0.0.1");
  });

  it("connects to the checked address, keeping the name in the Host header", async () => {
    // A name no real DNS knows: the connection can only go where the checked answer said.
    const http = new OutboundHttp({ allowPrivate: true, resolve: async () => ["127.0.0.1"] });
    const response = await http.request({ url: `http://pinned.invalid:${port}/pinned` });
    expect(response.status).toBe(201);
    expect(seen.find((s) => s.path === "/pinned")?.host).toBe(`pinned.invalid:${port}`);
  });

  it("returns a redirect as is, without following it", async () => {
    const response = await dev.request({ url: `http://127.0.0.1:${port}/redirect` });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://127.0.0.1:${port}/target`);
    expect(seen.some((s) => s.path === "/target")).toBe(false);
  });

  it("reads at most the byte cap of a response", async () => {
    const response = await dev.request({ url: `http://127.0.0.1:${port}/large`, maxResponseBytes: 1_024 });
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(1_024);
    expect(response.truncated).toBe(true);
  });

  it("gives up after the timeout, whether no headers or no end of body came", async () => {
    for (const path of ["/silent", "/hang"]) {
      const error = await dev.request({ url: `http://127.0.0.1:${port}${path}`, timeoutMs: 300 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OutboundRequestError);
      expect(error).toMatchObject({ code: "timeout" });
    }
  });

  it("reports a refused connection and a name that does not resolve", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");
    const refused = await refusal(dev, `http://127.0.0.1:${closedPort}/`);
    expect(refused.code).toBe("connection_failed");
    expect(refused.message).toContain("127.0.0.1");

    const unknown = new OutboundHttp({
      resolve: async (host) => {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      },
    });
    const dns = await refusal(unknown, "https://nowhere.example/");
    expect(dns.code).toBe("dns_failure");
    expect(dns.message).toContain("nowhere.example");
  });
});
