import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface GeminiReply {
  status?: number;
  /** A generateContent response (or an error body), as Gemini's REST API returns it. */
  body: unknown;
  /** Answer only after this long (to exercise the client's timeout). */
  delayMs?: number;
}

export interface GeminiRequest {
  path: string;
  apiKey: string | undefined;
  body: { contents?: unknown; systemInstruction?: unknown };
}

/** Gemini's answer for `text`, in the REST wire format. */
export function geminiText(text: string, tokens = { prompt: 7, candidates: 11 }): GeminiReply {
  return {
    body: {
      candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: tokens.prompt,
        candidatesTokenCount: tokens.candidates,
        totalTokenCount: tokens.prompt + tokens.candidates,
      },
      modelVersion: "gemini-2.5-flash",
    },
  };
}

/** An answer grounded in Google Search, citing `sources` as Gemini's groundingMetadata does. */
export function geminiGrounded(text: string, sources: Array<{ title: string; uri: string }>): GeminiReply {
  const reply = geminiText(text);
  const body = reply.body as { candidates: Array<Record<string, unknown>> };
  const candidate = body.candidates[0] ?? {};
  candidate.groundingMetadata = {
    webSearchQueries: [text.slice(0, 20)],
    groundingChunks: sources.map((web) => ({ web })),
  };
  return reply;
}

export const geminiRateLimited: GeminiReply = {
  status: 429,
  body: {
    error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" },
  },
};

export const geminiBlocked: GeminiReply = {
  body: {
    promptFeedback: {
      blockReason: "SAFETY",
      safetyRatings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH" }],
    },
    usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
  },
};

async function readJson(req: IncomingMessage): Promise<GeminiRequest["body"]> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk));
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

/**
 * A local server speaking Gemini's `/v1[beta]/models/{model}:generateContent` REST format, so the real
 * @google/genai client runs against it (`httpOptions.baseUrl`). Replies are scripted in order; the
 * last one repeats.
 */
export async function startGeminiServer(script: GeminiReply[]) {
  const requests: GeminiRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer(async (req, res) => {
    const body = await readJson(req);
    requests.push({ path: req.url ?? "", apiKey: req.headers["x-goog-api-key"]?.toString(), body });
    if (!/^\/v1(?:beta)?\/models\/[^/:]+:generateContent/.test(req.url ?? "")) {
      res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: { code: 404 } }));
      return;
    }
    const reply = script[Math.min(requests.length - 1, script.length - 1)] ?? geminiText("");
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status ?? 200, { "Content-Type": "application/json" }).end(JSON.stringify(reply.body));
    };
    if (reply.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, reply.delayMs);
      timers.add(timer);
    } else {
      send();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
