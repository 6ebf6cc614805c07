import { once } from "node:events";
import { createServer, type Server } from "node:http";

export interface WikiPage {
  title: string;
  extract: string;
  type?: "standard" | "disambiguation";
}

/**
 * A local server speaking the two Wikipedia REST endpoints the wiki provider uses, per language
 * (`/{lang}/w/rest.php/v1/search/title`, `/{lang}/api/rest_v1/page/summary/{key}`), with the
 * pages given; `down` makes every request a 503.
 */
export async function startWikipediaServer(pages: Record<string, Record<string, WikiPage>>) {
  const requests: Array<{ url: string; userAgent: string | undefined }> = [];
  const state = { down: false };
  const json = (res: import("node:http").ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ url: req.url ?? "", userAgent: req.headers["user-agent"] });
    if (state.down) return json(res, 503, { error: "down" });
    const [, lang, ...rest] = url.pathname.split("/");
    const site = pages[lang ?? ""] ?? {};
    const path = `/${rest.join("/")}`;
    if (path === "/w/rest.php/v1/search/title") {
      const q = (url.searchParams.get("q") ?? "").toLowerCase();
      const hits = Object.entries(site).filter(
        ([key, page]) => key.toLowerCase().includes(q) || page.title.toLowerCase().includes(q),
      );
      return json(res, 200, { pages: hits.slice(0, 1).map(([key, page]) => ({ id: 1, key, title: page.title })) });
    }
    const summary = /^\/api\/rest_v1\/page\/summary\/(.+)$/.exec(path);
    const page = summary?.[1] ? site[decodeURIComponent(summary[1])] : undefined;
    if (!summary || !page) return json(res, 404, { type: "https://mediawiki.org/wiki/HyperSwitch/errors/not_found" });
    return json(res, 200, {
      type: page.type ?? "standard",
      title: page.title,
      extract: page.extract,
      content_urls: { desktop: { page: `https://${lang}.wikipedia.org/wiki/${summary[1]}` } },
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    urlTemplate: `http://127.0.0.1:${address.port}/{lang}`,
    requests,
    state,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
