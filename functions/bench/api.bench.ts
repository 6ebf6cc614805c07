import express from "express";
import { z } from "zod";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { serve } from "../test/serve.ts";
import { ownerWithTenant } from "../test/support/fixtures.ts";
import { client, startTestApi } from "../test/support/test-api.ts";

/**
 * `GET /v1/tenants/{t}/bots` through the whole API (token or key check, membership, validation,
 * tracing, logging, problem mapping) against a bare Express route running the same Firestore query,
 * both on the same emulator in the same run.
 */
export const suite: BenchSuite = {
  name: "api-list-bots",
  description: "one GET of a tenant's 3 bots per iteration, sequential, against the Firestore emulator",
  baseline: "bare Express route, same Firestore query",
  needs: ["auth", "firestore"],
  mode: "interleaved",
  timeMs: 5_000,
  // The goal: auth, validation and tracing cost under 30% of a bare route's time.
  minRatio: {
    "GET /v1/tenants/{t}/bots with an ID token": 0.77,
    "GET /v1/tenants/{t}/bots with an API key": 0.77,
  },
  async setup() {
    // Spans are made as in production but not kept: a memory exporter would grow through the run and
    // slow whichever task runs last.
    const api = await startTestApi({ traceExporter: "none" });
    const http = client(api.url);
    const { owner, tenantId } = await ownerWithTenant(http, "Bench tenant");
    await api.firebase.firestore.doc(`tenants/${tenantId}`).update({ plan: "starter" });
    for (const name of ["one", "two", "three"]) {
      await http.post(`/tenants/${tenantId}/bots`, { token: owner.idToken }, { name, transport: "simulator" });
    }
    const keyResponse = await http.post(
      `/tenants/${tenantId}/api-keys`,
      { token: owner.idToken },
      {
        name: "bench",
        scopes: ["read"],
      },
    );
    const apiKey = z.object({ key: z.string() }).parse(keyResponse.body).key;

    const bare = express();
    bare.get("/bots", async (_req, res) => {
      const snapshot = await api.firebase.firestore
        .collection(`tenants/${tenantId}/bots`)
        .orderBy("createdAt", "desc")
        .limit(21)
        .get();
      res.json({ items: snapshot.docs.map((doc) => ({ id: doc.id, ...doc.data() })) });
    });
    const bareServer = await serve(bare);

    const get = async (url: string, headers: Record<string, string>) => {
      const response = await fetch(url, { headers });
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
      await response.arrayBuffer();
    };
    const ours = `${api.url}/v1/tenants/${tenantId}/bots`;
    const tasks = {
      "bare Express route, same Firestore query": () => get(`${bareServer.url}/bots`, {}),
      "GET /v1/tenants/{t}/bots with an ID token": () => get(ours, { authorization: `Bearer ${owner.idToken}` }),
      "GET /v1/tenants/{t}/bots with an API key": () => get(ours, { "x-api-key": apiKey }),
    };
    // The emulator is a JVM: warm its JIT (and Node's) on all three before anything is measured.
    const warmUntil = Date.now() + 3_000;
    while (Date.now() < warmUntil) for (const task of Object.values(tasks)) await task();
    return {
      tasks,
      async teardown() {
        await bareServer.close();
        await api.close();
      },
    };
  },
};
