/**
 * Every text the bots send, in English and Indonesian, chosen per bot (`settings.language`).
 * `{name}` placeholders are filled from the values given; a missing one is left visible.
 */
const en = {
  "refuse.disabled": "The {command} command is turned off for this bot.",
  "refuse.group_only": "{command} works in groups only.",
  "refuse.private_only": "{command} works in a private chat with me only.",
  "refuse.owner_only": "Only this bot's owners can use {command}.",
  "refuse.admin_only": "Only group admins can use {command}.",
  "refuse.cooldown": "Easy there: {command} again in {seconds} s.",
  "refuse.rate_limited": "Too many commands at once; try again in a moment.",
  "refuse.unknown": "There is no command called {command}. Send {prefix}menu for the list.",
  "error.failed": "Something went wrong running {command}. Please try again.",
  "maker.sticker_needs_image":
    "Send an image with {prefix}sticker as its caption, or reply to an image with {prefix}sticker.",
  "maker.video_unsupported": "Stickers from videos are not supported yet; send an image or a GIF image file.",
  "maker.too_large": "That file is too large to make a sticker from.",
  "maker.unavailable": "Stickers are not available on this bot right now.",
  "ai.needs_question": "Ask me something: {prefix}ai <your question>.",
  "ai.needs_text": "Reply to a message with {prefix}{command}, or write the text after it.",
  "ai.needs_language":
    "Which language? {prefix}translate <language> <text>, e.g. {prefix}translate english selamat pagi.",
  "ai.unavailable": "AI answers are not available on this bot right now.",
  "owner.prefix_set": "Prefixes are now: {prefixes}",
  "owner.prefix_invalid": "Prefixes are 1-3 characters without spaces, at most 5: {prefix}setprefix . ! /",
  "owner.mode_set": "Mode is now {mode}.",
  "owner.mode_invalid": "Modes: public (everyone), self (owners only), group (groups only). {prefix}mode public",
  "owner.stats": "Since {since} ago: {ok} commands answered, {refused} refused, {errors} failed.",
  "info.pong": "Pong! {ms} ms",
  "info.uptime": "Up for {duration}.",
  "info.about": "WhatsDeX {version}: a WhatsApp bot platform. Send {prefix}menu to see what I can do.",
  "menu.title": "*Commands* (prefix {prefix})",
  "menu.footer": "Send {prefix}help <command> for details.",
  "help.usage": "Usage: {usage}",
  "help.examples": "Examples:",
  "help.aliases": "Also: {aliases}",
  "category.info": "Info",
  "category.maker": "Maker",
  "category.ai": "AI",
  "category.search": "Search",
  "category.group": "Group",
  "category.owner": "Owner",
} as const;

export type MessageKey = keyof typeof en;
export type Language = "en" | "id";

const id: Record<MessageKey, string> = {
  "refuse.disabled": "Perintah {command} dimatikan untuk bot ini.",
  "refuse.group_only": "{command} hanya bisa dipakai di grup.",
  "refuse.private_only": "{command} hanya bisa dipakai di chat pribadi dengan saya.",
  "refuse.owner_only": "Hanya pemilik bot ini yang bisa memakai {command}.",
  "refuse.admin_only": "Hanya admin grup yang bisa memakai {command}.",
  "refuse.cooldown": "Sabar ya: {command} bisa dipakai lagi dalam {seconds} detik.",
  "refuse.rate_limited": "Terlalu banyak perintah sekaligus; coba lagi sebentar lagi.",
  "refuse.unknown": "Tidak ada perintah {command}. Kirim {prefix}menu untuk melihat daftarnya.",
  "error.failed": "Terjadi kesalahan saat menjalankan {command}. Silakan coba lagi.",
  "maker.sticker_needs_image":
    "Kirim gambar dengan keterangan {prefix}sticker, atau balas sebuah gambar dengan {prefix}sticker.",
  "maker.video_unsupported": "Stiker dari video belum didukung; kirim gambar atau file GIF.",
  "maker.too_large": "File itu terlalu besar untuk dijadikan stiker.",
  "maker.unavailable": "Stiker sedang tidak tersedia di bot ini.",
  "ai.needs_question": "Tanyakan sesuatu: {prefix}ai <pertanyaan Anda>.",
  "ai.needs_text": "Balas sebuah pesan dengan {prefix}{command}, atau tulis teksnya setelah perintah.",
  "ai.needs_language":
    "Ke bahasa apa? {prefix}translate <bahasa> <teks>, misalnya {prefix}translate inggris selamat pagi.",
  "ai.unavailable": "Jawaban AI sedang tidak tersedia di bot ini.",
  "owner.prefix_set": "Awalan sekarang: {prefixes}",
  "owner.prefix_invalid": "Awalan 1-3 karakter tanpa spasi, paling banyak 5: {prefix}setprefix . ! /",
  "owner.mode_set": "Mode sekarang {mode}.",
  "owner.mode_invalid": "Mode: public (semua orang), self (hanya pemilik), group (hanya grup). {prefix}mode public",
  "owner.stats": "Sejak {since} lalu: {ok} perintah dijawab, {refused} ditolak, {errors} gagal.",
  "info.pong": "Pong! {ms} md",
  "info.uptime": "Sudah aktif selama {duration}.",
  "info.about": "WhatsDeX {version}: platform bot WhatsApp. Kirim {prefix}menu untuk melihat yang bisa saya lakukan.",
  "menu.title": "*Daftar perintah* (awalan {prefix})",
  "menu.footer": "Kirim {prefix}help <perintah> untuk detailnya.",
  "help.usage": "Cara pakai: {usage}",
  "help.examples": "Contoh:",
  "help.aliases": "Nama lain: {aliases}",
  "category.info": "Info",
  "category.maker": "Pembuat",
  "category.ai": "AI",
  "category.search": "Cari",
  "category.group": "Grup",
  "category.owner": "Pemilik",
};

const catalogs: Record<Language, Record<MessageKey, string>> = { en, id };

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translator(language: Language): Translate {
  const catalog = catalogs[language];
  return (key, values = {}) =>
    catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
