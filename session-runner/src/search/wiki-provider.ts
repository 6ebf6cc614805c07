import { z } from "zod";

export interface WikiArticle {
  title: string;
  extract: string;
  url: string;
}

export type WikiResult = { found: WikiArticle } | { ambiguous: string } | { missing: true };

/** Encyclopedia lookups, by topic, in the bot's language. */
export interface WikiProvider {
  lookup(topic: string, language: string): Promise<WikiResult>;
}

/** Wikipedia did not answer usefully (down, slow, or a shape we do not know): not the user's fault. */
export class WikiUnavailableError extends Error {
  override readonly name = "WikiUnavailableError";
}

const searchSchema = z.object({ pages: z.array(z.object({ key: z.string().min(1), title: z.string() })) });
const summarySchema = z.object({
  type: z.string(),
  title: z.string(),
  extract: z.string(),
  content_urls: z.object({ desktop: z.object({ page: z.string() }) }),
});

export interface WikipediaOptions {
  /** `https://{lang}.wikipedia.org` in production. */
  urlTemplate: string;
  timeoutMs: number;
  /** Wikimedia asks every client to identify itself (https://meta.wikimedia.org/wiki/User-Agent_policy). */
  userAgent: string;
}

/**
 * Wikipedia's REST APIs: the title search (`/w/rest.php/v1/search/title`) finds the article a
 * user means by loose words, the page summary (`/api/rest_v1/page/summary`) gives its lead.
 */
export function wikipedia(options: WikipediaOptions): WikiProvider {
  async function get(url: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { "User-Agent": options.userAgent, Accept: "application/json" },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new WikiUnavailableError(`Wikipedia did not answer: ${String(error)}`, { cause: error });
    }
    if (response.status >= 500 || response.status === 429) {
      throw new WikiUnavailableError(`Wikipedia answered ${response.status}`);
    }
    return { status: response.status, body: response.status === 404 ? null : await response.json() };
  }

  const parse = <T>(schema: z.ZodType<T>, body: unknown, what: string): T => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new WikiUnavailableError(`Wikipedia's ${what} had an unexpected shape`);
    return parsed.data;
  };

  return {
    async lookup(topic, language) {
      if (!/^[a-z]{2,3}$/.test(language)) throw new Error(`not a language code: ${language}`);
      const base = options.urlTemplate.replaceAll("{lang}", language).replace(/\/$/, "");
      const search = await get(`${base}/w/rest.php/v1/search/title?q=${encodeURIComponent(topic)}&limit=1`);
      const page = search.status === 200 ? parse(searchSchema, search.body, "search").pages[0] : undefined;
      if (!page) return { missing: true };
      const summary = await get(`${base}/api/rest_v1/page/summary/${encodeURIComponent(page.key)}`);
      if (summary.status === 404) return { missing: true };
      const article = parse(summarySchema, summary.body, "summary");
      if (article.type === "disambiguation") return { ambiguous: article.title };
      return { found: { title: article.title, extract: article.extract, url: article.content_urls.desktop.page } };
    },
  };
}
