import { aiCommands } from "./ai/ai-commands.ts";
import type { Command } from "./command.ts";
import { antilink } from "./group/antilink.ts";
import { groupCommands } from "./group/group-commands.ts";
import { participantCommands } from "./group/participant-commands.ts";
import { welcome } from "./group/welcome.ts";
import { infoCommands } from "./info/info-commands.ts";
import { meme } from "./maker/meme.ts";
import { qr } from "./maker/qr.ts";
import { sticker } from "./maker/sticker.ts";
import { toimg } from "./maker/toimg.ts";
import { banCommands } from "./owner/ban-commands.ts";
import { ownerCommands } from "./owner/owner-commands.ts";
import { searchCommands } from "./search/search-commands.ts";

/** Every command the bots answer, in the order `menu` lists them within each category. */
export const allCommands: readonly Command[] = [
  ...infoCommands,
  sticker,
  toimg,
  qr,
  meme,
  ...aiCommands,
  ...searchCommands,
  ...participantCommands,
  ...groupCommands,
  welcome,
  antilink,
  ...ownerCommands,
  ...banCommands,
];
