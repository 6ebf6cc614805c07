import { Boom } from "@hapi/boom";
import { createLogger } from "@whatsdex/core";
import { captureLogs } from "@whatsdex/core/testing";
import { describe, expect, it } from "vitest";

/**
 * Baileys reports failures as Boom errors whose message, `data` and `output.payload` quote the
 * stanza that failed, JIDs included. Whatever way the runner (or Baileys, through the logger it is
 * given) logs one, the number is masked like anywhere else: only its last 4 digits remain.
 */
describe("Baileys errors in the runner's logs", () => {
  const jid = "6281234567890@s.whatsapp.net";
  const hidden = "628123456";

  function boom(): Boom {
    return new Boom(`Bad MAC decrypting the message from ${jid}`, {
      statusCode: 500,
      data: { key: { remoteJid: jid, participant: jid }, node: { tag: "message", attrs: { from: jid } } },
    });
  }

  it("masks the JID in the message, stack, data and output of a Boom error", () => {
    const logs = captureLogs();
    const root = createLogger({ level: "info", service: "session-runner", version: "test", destination: logs.stream });
    const bot = root.child({ tenantId: "t1", botId: "b1" });
    const baileys = bot.child({ class: "baileys" });

    bot.error({ err: boom() }, "session failed");
    bot.warn(boom());
    baileys.error({ error: boom(), trace: boom().stack }, "unexpected error in 'handling message'");
    bot.child({ err: boom() }).info("bound to a child");

    const text = logs.text();
    expect(logs.lines()).toHaveLength(4);
    expect(text).not.toContain(hidden);
    expect(text).toContain("*********7890@s.whatsapp.net");
    const [first, second] = logs.lines();
    expect(first).toMatchObject({
      tenantId: "t1",
      err: {
        isBoom: true,
        message: "Bad MAC decrypting the message from *********7890@s.whatsapp.net",
        data: { key: { remoteJid: "*********7890@s.whatsapp.net" }, node: { attrs: { from: expect.any(String) } } },
        output: { statusCode: 500, payload: { statusCode: 500, error: "Internal Server Error" } },
      },
    });
    expect(second).toMatchObject({ message: "Bad MAC decrypting the message from *********7890@s.whatsapp.net" });
  });
});
