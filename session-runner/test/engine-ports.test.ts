import { manualClock, testFirebase } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { personOf } from "../src/identity/person.ts";
import { MemoryBans } from "./support/memory-stores.ts";
import { offlineEngine } from "./support/offline-engine.ts";

const firebase = testFirebase();
afterAll(() => firebase.close());

describe("the engine on its ports", () => {
  it("takes its bans from whatever store is behind the Bans port", async () => {
    const bans = new MemoryBans();
    const clock = manualClock();
    const { say: handle, texts } = offlineEngine(firebase.firestore, new CommandRegistry(infoCommands), {
      services: { bans },
      now: clock.now,
    });
    const say = (text: string, from: string) => {
      clock.advance(60_000); // past .ping's cooldown
      return handle(text, from);
    };
    const number = "6281200000009@s.whatsapp.net";
    const person = personOf(number, null, { lid: null, pn: null });
    expect(await say(".ping", number)).toBe("ok");
    await bans.ban(person, "lid:1");
    expect(await say(".ping", number)).toBe("banned");
    await bans.unban(person, "lid:1");
    expect(await say(".ping", number)).toBe("ok");
    // A banned person gets no answer at all.
    expect(texts()).toHaveLength(2);
  });
});
