import { defaultBotSettings } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { banCommands } from "../src/commands/owner/ban-commands.ts";
import { ownerCommands } from "../src/commands/owner/owner-commands.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

const USER = "200000000031@lid";
const OTHER = "200000000032@lid";

describe("two tenants' bots in one runner", () => {
  it("never share settings, cooldowns, owners or bans", async () => {
    const [a, b] = [await tenantWithBots(db, 1), await tenantWithBots(db, 1)];
    const botA = `tenants/${a.tenantId}/bots/${a.botIds[0]}`;
    const botB = `tenants/${b.tenantId}/bots/${b.botIds[0]}`;
    // Tenant A: Indonesian, ping off, and USER is its owner. Tenant B keeps the defaults.
    await db.doc(botA).update({
      settings: { ...defaultBotSettings, language: "id", disabledCommands: ["ping"], owners: ["200000000031@lid"] },
    });
    const whatsapp = new SimulatedWhatsApp();
    const supervisor = testSupervisor(db, {
      whatsapp,
      tenantIds: [a.tenantId, b.tenantId],
      commands: new CommandRegistry([...infoCommands, ...ownerCommands, ...banCommands]),
    });
    supervisor.start();
    try {
      const runtime = (path: string) =>
        [...supervisor.running.values()].find((r) => path.endsWith(r.runtime.bot.botId));
      const open = async (path: string, phone: string): Promise<SimulatedSocket> => {
        const qr = await waitFor("a QR code", async () =>
          whatsapp.liveSockets.find((s) => s === runtime(path)?.runtime.session.socket && s.state === "qr"),
        );
        qr.link(phone);
        return waitFor("an open socket", async () =>
          whatsapp.liveSockets.find((s) => s === runtime(path)?.runtime.session.socket && s.state === "open"),
        );
      };
      const [socketA, socketB] = [await open(botA, "6281111111111"), await open(botB, "6282222222222")];
      let n = 0;
      const ask = async (socket: SimulatedSocket, text: string, from = USER, mentions?: string[]) => {
        n += 1;
        const before = socket.sent.length;
        socket.deliver({
          key: { remoteJid: from, id: `X${n}`, fromMe: false },
          message: mentions
            ? { extendedTextMessage: { text, contextInfo: { mentionedJid: mentions } } }
            : { conversation: text },
        });
        await waitFor("a reply", async () => (socket.sent.length > before ? true : undefined));
        const sent = socket.sent[before]?.message.message;
        return sent?.extendedTextMessage?.text ?? sent?.conversation;
      };

      expect(await ask(socketA, ".ping")).toBe("Perintah .ping dimatikan untuk bot ini.");
      expect(await ask(socketB, ".ping")).toMatch(/^Pong! \d+ ms$/);
      // A cooldown earned on one tenant's bot does not follow the user to the other's.
      expect(await ask(socketA, ".uptime")).toMatch(/^Sudah aktif selama/);
      expect(await ask(socketB, ".uptime")).toMatch(/^Up for/);
      expect(await ask(socketA, ".uptime")).toMatch(/^Sabar ya/);
      // Owner of A is nobody special to B.
      expect(await ask(socketA, ".stats")).toMatch(/^Sejak /);
      expect(await ask(socketB, ".stats")).toBe("Only this bot's owners can use .stats.");
      // Banned by A's owner, OTHER is still answered by B; A answers its owner, not OTHER.
      expect(await ask(socketA, ".ban", USER, [OTHER])).toBe("@200000000032 diblokir: saya tidak akan menjawabnya.");
      expect(await ask(socketB, ".about", OTHER)).toMatch(/^WhatsDeX /);
      const before = socketA.sent.length;
      socketA.deliver({ key: { remoteJid: OTHER, id: "BANNED", fromMe: false }, message: { conversation: ".about" } });
      expect(await ask(socketA, ".about")).toMatch(/^WhatsDeX /);
      expect(socketA.sent.slice(before).map((s) => s.jid)).toEqual([USER]);
    } finally {
      await supervisor.stop();
    }
  });
});
