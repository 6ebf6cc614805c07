import { getBinaryNodeChild } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRefusal } from "../src/groups/group-refusals.ts";
import type { SimulatedPhone } from "../src/phone/simulated-phone.ts";
import { LocalWhatsApp } from "../src/server/local-whatsapp.ts";
import type { Companion } from "./support/companion.ts";
import { linkedBot, refusal, socketOf, textOf } from "./support/linked-bot.ts";
import { serverLogger } from "./support/logger.ts";

let server: LocalWhatsApp | undefined;
const bots: Companion[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) bot.end();
  await server?.close();
});

/** A server with the bot's phone (Owner), two friends' phones and the bot linked to Owner. */
async function world() {
  const started = await LocalWhatsApp.start({ logger: serverLogger() });
  server = started;
  const owner = await started.createPhone("6281200000101", "Owner");
  const alice = await started.createPhone("6281300000102", "Alice");
  const bob = await started.createPhone("6281300000103", "Bob");
  const bot = await linkedBot(started, owner);
  bots.push(bot);
  return { server: started, owner, alice, bob, bot, sock: socketOf(bot) };
}

const participantsOf = (metadata: { participants: Array<{ id: string; phoneNumber?: string; admin?: unknown }> }) =>
  metadata.participants.map(({ id, phoneNumber, admin }) => ({ id, phoneNumber, admin }));

/**
 * Resolves once the bot heard `userJid`'s receipt for its message `id`: as message-receipt.update,
 * or folded into its own message's upsert when both fell in one of Baileys' event buffers.
 */
function receiptReached(bot: Companion, id: string | null | undefined, userJid: string, since: number) {
  return Promise.any([
    bot.next("message-receipt.update", (us) => us.some((u) => u.key.id === id && u.receipt.userJid === userJid), {
      since,
    }),
    bot.next(
      "messages.upsert",
      (u) => u.messages.some((m) => m.key.id === id && m.userReceipt?.some((r) => r.userJid === userJid)),
      { since },
    ),
  ]);
}

/** Resolves once `phone` decrypted the message `id` in `chat`, and returns its text. */
async function textReceived(phone: SimulatedPhone, id: string | null | undefined, chat: string) {
  const entry = await phone.waitFor(() => phone.inbox.find((e) => e.id === id && e.chat === chat));
  return textOf(entry.message);
}

describe("groups on the local server, with a real Baileys bot", () => {
  it("a phone's group reaches the bot: it reads the metadata, decrypts the members' messages, and every phone decrypts its own", async () => {
    const { server, owner, alice, bob, bot, sock } = await world();
    const mark = bot.events.length;
    const group = server.createGroup(alice, "Weekend trip", [owner, bob]);
    const [upserted] = await bot.next("groups.upsert", (gs) => gs.some((g) => g.id === group.jid), { since: mark });
    expect(upserted?.subject).toBe("Weekend trip");

    const metadata = await sock.groupMetadata(group.jid);
    expect(metadata).toMatchObject({
      id: group.jid,
      subject: "Weekend trip",
      addressingMode: "lid",
      owner: alice.account.lidJid,
      ownerPn: alice.account.pnJid,
      size: 3,
      announce: false,
      restrict: false,
    });
    expect(group.jid).toMatch(/^\d+@g\.us$/);
    expect(participantsOf(metadata)).toEqual([
      { id: alice.account.lidJid, phoneNumber: alice.account.pnJid, admin: "superadmin" },
      { id: owner.account.lidJid, phoneNumber: owner.account.pnJid, admin: null },
      { id: bob.account.lidJid, phoneNumber: bob.account.pnJid, admin: null },
    ]);

    // Alice writes: the bot and Bob read it through her sender key, handed to each device 1:1.
    const fromAlice = await alice.sendGroupText(group, "who brings the tent?");
    const upsert = await bot.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === fromAlice), {
      since: mark,
    });
    const received = upsert.messages.find((m) => m.key.id === fromAlice);
    expect(received?.key).toMatchObject({
      remoteJid: group.jid,
      participant: alice.account.lidJid,
      participantAlt: alice.account.pnJid,
      fromMe: false,
    });
    expect(textOf(received?.message)).toBe("who brings the tent?");
    expect(received?.pushName).toBe("Alice");
    expect(await textReceived(bob, fromAlice, group.jid)).toBe("who brings the tent?");

    // The bot answers: each phone (its own account's too) decrypts the skmsg with the key it was sent.
    const reply = await sock.sendMessage(group.jid, { text: "I do" });
    for (const phone of [alice, bob, owner]) {
      expect(await textReceived(phone, reply?.key.id, group.jid)).toBe("I do");
    }
    // Alice's phone said delivered: the bot hears it as a group receipt from her.
    await receiptReached(bot, reply?.key.id, alice.account.lidJid, mark);

    // Second round: everyone holds the keys now, so only the skmsg travels.
    const again = await sock.sendMessage(group.jid, { text: "and the stove" });
    expect(await textReceived(bob, again?.key.id, group.jid)).toBe("and the stove");
    const second = await alice.sendGroupText(group, "great");
    const secondUpsert = await bot.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === second), {
      since: mark,
    });
    expect(textOf(secondUpsert.messages[0]?.message)).toBe("great");
    for (const phone of [alice, bob, owner]) expect(phone.failures).toEqual([]);
  });

  it("the bot creates a group and, as its admin, adds, promotes, demotes and removes members with a status for each", async () => {
    const { server, owner, alice, bob, bot, sock } = await world();
    const created = await sock.groupCreate("Bot's club", [alice.account.pnJid]);
    expect(created.subject).toBe("Bot's club");
    expect(created.owner).toBe(owner.account.lidJid);
    expect(participantsOf(created)).toEqual([
      { id: owner.account.lidJid, phoneNumber: owner.account.pnJid, admin: "superadmin" },
      { id: alice.account.lidJid, phoneNumber: alice.account.pnJid, admin: null },
    ]);
    const created_ = await alice.waitFor(() =>
      alice.notifications.find((n) => n.from === created.id && n.action === "create"),
    );
    expect(created_.author).toBe(owner.account.lidJid);

    const mark = bot.events.length;
    const stranger = "6289999999999@s.whatsapp.net";
    const added = await sock.groupParticipantsUpdate(
      created.id,
      [bob.account.pnJid, alice.account.pnJid, stranger],
      "add",
    );
    expect(added.map(({ jid, status }) => ({ jid, status }))).toEqual([
      { jid: bob.account.lidJid, status: "200" },
      { jid: alice.account.lidJid, status: "409" },
      { jid: stranger, status: "404" },
    ]);
    const addition = await bot.next("group-participants.update", (u) => u.id === created.id && u.action === "add", {
      since: mark,
    });
    expect(addition.author).toBe(owner.account.lidJid);
    expect(addition.participants.map((p) => [p.id, p.phoneNumber])).toEqual([[bob.account.lidJid, bob.account.pnJid]]);
    const toldAlice = await alice.waitFor(() =>
      alice.notifications.find((n) => n.from === created.id && n.action === "add"),
    );
    expect(toldAlice.participants).toEqual([bob.account.lidJid]);
    await bob.waitFor(() => bob.notifications.find((n) => n.from === created.id && n.action === "add"));

    const promoted = await sock.groupParticipantsUpdate(created.id, [alice.account.lidJid], "promote");
    expect(promoted.map((p) => p.status)).toEqual(["200"]);
    await bot.next("group-participants.update", (u) => u.id === created.id && u.action === "promote", { since: mark });
    expect((await sock.groupMetadata(created.id)).participants.find((p) => p.id === alice.account.lidJid)?.admin).toBe(
      "admin",
    );
    const demoted = await sock.groupParticipantsUpdate(created.id, [alice.account.lidJid], "demote");
    expect(demoted.map((p) => p.status)).toEqual(["200"]);
    await bot.next("group-participants.update", (u) => u.id === created.id && u.action === "demote", { since: mark });

    const removed = await sock.groupParticipantsUpdate(created.id, [bob.account.pnJid], "remove");
    expect(removed.map(({ jid, status }) => ({ jid, status }))).toEqual([{ jid: bob.account.lidJid, status: "200" }]);
    // Bob hears of his own removal; removing him again finds no such participant.
    await bob.waitFor(() => bob.notifications.find((n) => n.from === created.id && n.action === "remove"));
    const again = await sock.groupParticipantsUpdate(created.id, [bob.account.pnJid], "remove");
    expect(again.map((p) => p.status)).toEqual(["404"]);
    expect(participantsOf(await sock.groupMetadata(created.id))).toEqual([
      { id: owner.account.lidJid, phoneNumber: owner.account.pnJid, admin: "superadmin" },
      { id: alice.account.lidJid, phoneNumber: alice.account.pnJid, admin: null },
    ]);
    const all = await sock.groupFetchAllParticipating();
    expect(Object.keys(all)).toEqual([created.id]);
    expect(server.groups.registry.get(created.id)?.isMember(bob.account)).toBe(false);
  });

  it("a bot that is not an admin is refused what only admins may do, until a phone promotes it", async () => {
    const { server, owner, alice, bob, bot, sock } = await world();
    const mark = bot.events.length;
    const group = server.createGroup(alice, "Alice's", [owner, bob]);
    await bot.next("groups.upsert", (gs) => gs.some((g) => g.id === group.jid), { since: mark });

    const notAdmin = { code: 401, text: "not-authorized" };
    expect(await refusal(sock.groupParticipantsUpdate(group.jid, [bob.account.pnJid], "remove"))).toEqual(notAdmin);
    expect(await refusal(sock.groupParticipantsUpdate(group.jid, [bob.account.pnJid], "promote"))).toEqual(notAdmin);
    expect(await refusal(sock.groupInviteCode(group.jid))).toEqual(notAdmin);
    expect(await refusal(sock.groupRevokeInvite(group.jid))).toEqual(notAdmin);
    expect(await refusal(sock.groupSettingUpdate(group.jid, "announcement"))).toEqual(notAdmin);
    expect(group.isMember(bob.account)).toBe(true);

    // Any member edits the subject of an unlocked group; once Alice locks it, only admins.
    await sock.groupUpdateSubject(group.jid, "Renamed by the bot");
    await alice.waitFor(() => alice.notifications.find((n) => n.from === group.jid && n.action === "subject"));
    server.groups.setSetting(alice.account, group.jid, "locked");
    await bot.next("groups.update", (us) => us.some((u) => u.id === group.jid && u.restrict === true), { since: mark });
    expect(await refusal(sock.groupUpdateSubject(group.jid, "Again"))).toEqual(notAdmin);
    expect(group.subject).toBe("Renamed by the bot");

    // A phone that is not an admin is refused the same way.
    expect(() => server.updateGroupParticipants(bob, group, "remove", [alice])).toThrow(GroupRefusal);

    // Alice promotes the bot's account: the bot hears it and may now do what admins do.
    const outcome = server.updateGroupParticipants(alice, group, "promote", [owner]);
    expect(outcome.map((o) => o.status)).toEqual(["200"]);
    const promotion = await bot.next("group-participants.update", (u) => u.id === group.jid && u.action === "promote", {
      since: mark,
    });
    expect(promotion.participants.map((p) => p.id)).toEqual([owner.account.lidJid]);
    expect(promotion.author).toBe(alice.account.lidJid);
    expect(await sock.groupInviteCode(group.jid)).toBe(group.inviteCode);
    await sock.groupSettingUpdate(group.jid, "announcement");
    expect((await sock.groupMetadata(group.jid)).announce).toBe(true);

    // Groups the bot is not in, or that do not exist, are refused as WhatsApp refuses them.
    const elsewhere = server.createGroup(bob, "Bob's", [alice]);
    expect(await refusal(sock.groupMetadata(elsewhere.jid))).toEqual({ code: 403, text: "forbidden" });
    expect(await refusal(sock.groupMetadata("120363000000000001@g.us"))).toEqual({ code: 404, text: "item-not-found" });
  });

  it("invite codes: an admin reads and revokes it, the old code stops working, the new one shows the group and lets people in", async () => {
    const { server, alice, bob, bot, sock } = await world();
    const created = await sock.groupCreate("Open house", [alice.account.pnJid]);
    const code = await sock.groupInviteCode(created.id);
    expect(code).toMatch(/^[A-Za-z0-9]{22}$/);
    expect((await sock.groupGetInviteInfo(code ?? "")).subject).toBe("Open house");

    const mark = bot.events.length;
    const next = await sock.groupRevokeInvite(created.id);
    expect(next).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(next).not.toBe(code);
    await bot.next("groups.update", (us) => us.some((u) => u.id === created.id && u.inviteCode === next), {
      since: mark,
    });
    await alice.waitFor(() => alice.notifications.find((n) => n.from === created.id && n.action === "invite"));
    expect(await refusal(sock.groupGetInviteInfo(code ?? ""))).toEqual({ code: 410, text: "gone" });
    expect(await refusal(sock.groupGetInviteInfo("NotACodeAnyoneWasGiven"))).toEqual({
      code: 406,
      text: "not-acceptable",
    });

    // Bob joins with the new code; the bot sees him come in.
    server.groups.join(bob.account, next ?? "");
    const joined = await bot.next("group-participants.update", (u) => u.id === created.id && u.action === "add", {
      since: mark,
    });
    expect(joined.participants.map((p) => p.id)).toEqual([bob.account.lidJid]);

    // The bot joins another group by its code.
    const other = server.createGroup(bob, "Bob's corner", [alice]);
    expect(await sock.groupAcceptInvite(server.groups.inviteCode(bob.account, other.jid))).toBe(other.jid);
    expect((await sock.groupMetadata(other.jid)).size).toBe(3);
  });

  it("subject and description changes reach the bot as groups.update, and the bot's reach the phones", async () => {
    const { server, owner, alice, bot, sock } = await world();
    const mark = bot.events.length;
    const group = server.createGroup(alice, "Before", [owner]);

    server.groups.setSubject(alice.account, group.jid, "After");
    const [renamed] = await bot.next("groups.update", (us) => us.some((u) => u.id === group.jid && !!u.subject), {
      since: mark,
    });
    expect(renamed).toMatchObject({ id: group.jid, subject: "After", author: alice.account.lidJid });

    server.groups.setDescription(alice.account, group.jid, { body: "Bring snacks", id: "DESC0001" });
    const [described] = await bot.next("groups.update", (us) => us.some((u) => u.id === group.jid && !!u.desc), {
      since: mark,
    });
    expect(described?.desc).toBe("Bring snacks");
    // An edit made on a description that has since changed is refused, not applied.
    expect(() =>
      server?.groups.setDescription(alice.account, group.jid, { body: "stale", id: "DESC0002", prev: "DESC0000" }),
    ).toThrow(/409 conflict/);

    await sock.groupUpdateDescription(group.jid, "Bring drinks");
    const told = await alice.waitFor(() =>
      alice.notifications.find(
        (n) => n.from === group.jid && n.action === "description" && n.author === owner.account.lidJid,
      ),
    );
    expect(told.node).toBeDefined();
    const metadata = await sock.groupMetadata(group.jid);
    expect(metadata).toMatchObject({ subject: "After", desc: "Bring drinks", descOwner: owner.account.lidJid });

    await sock.groupUpdateSubject(group.jid, "Picnic");
    const subjectNotice = await alice.waitFor(() =>
      alice.notifications.find(
        (n) => n.from === group.jid && n.action === "subject" && n.author === owner.account.lidJid,
      ),
    );
    expect(getBinaryNodeChild(subjectNotice.node, "subject")?.attrs.subject).toBe("Picnic");

    await sock.groupUpdateDescription(group.jid, undefined);
    expect((await sock.groupMetadata(group.jid)).desc).toBeUndefined();
  });

  it("the bot leaves a group: the members are told, and the group is closed to it", async () => {
    const { server, owner, alice, bob, bot, sock } = await world();
    const mark = bot.events.length;
    const group = server.createGroup(alice, "Farewell", [owner, bob]);
    await bot.next("groups.upsert", (gs) => gs.some((g) => g.id === group.jid), { since: mark });

    await sock.groupLeave(group.jid);
    const told = await alice.waitFor(() =>
      alice.notifications.find((n) => n.from === group.jid && n.action === "remove"),
    );
    expect(told.participants).toEqual([owner.account.lidJid]);
    const left = await bot.next("group-participants.update", (u) => u.id === group.jid && u.action === "remove", {
      since: mark,
    });
    expect(left.participants.map((p) => p.id)).toEqual([owner.account.lidJid]);
    expect(await refusal(sock.groupMetadata(group.jid))).toEqual({ code: 403, text: "forbidden" });

    // The group goes on without it.
    const afterwards = await alice.sendGroupText(group, "bye bot");
    expect(await textReceived(bob, afterwards, group.jid)).toBe("bye bot");
  });
});
