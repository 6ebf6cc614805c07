import type { ReactNode } from "react";
import type { FleetBot } from "./fleet-watch.ts";

/**
 * THE CHAT PANE SLOT. The App reserves the lower part of the right column for a chat with the
 * selected bot (to talk to it as a WhatsApp user would, through the phone API) and renders
 * whatever component is passed as `chat` there. Nothing is drawn when none is passed: the TUI shows
 * no pane without data. A chat pane that needs the keyboard gets it while `focused` is true; the
 * App then passes no key to its own handlers except Ctrl-C (Tab moves the focus, see app.ts).
 */
export interface ChatPaneProps {
  bot: FleetBot | undefined;
  width: number;
  height: number;
  focused: boolean;
}

export type ChatPane = (props: ChatPaneProps) => ReactNode;

/** Rows the slot takes when a chat pane is given. */
export const CHAT_PANE_HEIGHT = 14;
