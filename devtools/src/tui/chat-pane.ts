import { Box, Text, useInput } from "ink";
import { type ReactNode, useState, useSyncExternalStore } from "react";
import type { ChatPane, ChatPaneProps } from "./chat-slot.ts";
import type { ChatStore } from "./chat-store.ts";
import { h } from "./h.ts";
import { Pane } from "./pane.ts";

/**
 * The chat pane: you, as the phone `store.me`, in a private chat with the selected bot, through the
 * phone API (the local WhatsApp server's, or the simulator's) — the same messages `npm run chat`
 * sends, through the real pipeline. Tab focuses it; typed text is sent with Enter.
 */
export function chatPane(store: ChatStore): ChatPane {
  return (props: ChatPaneProps) => h(ChatPaneView, { ...props, store });
}

function ChatPaneView(props: ChatPaneProps & { store: ChatStore }): ReactNode {
  const { store, bot, focused } = props;
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const [draft, setDraft] = useState("");
  const number = bot?.state === "open" ? bot.phoneNumber : null;

  useInput(
    (input, key) => {
      if (key.tab) return; // the App moves the focus
      if (key.return) {
        if (number && draft.trim()) void store.send(number, draft.trim());
        setDraft("");
      } else if (key.backspace || key.delete) setDraft((text) => text.slice(0, -1));
      else if (key.escape) setDraft("");
      else if (input && !key.ctrl && !key.meta) setDraft((text) => text + input);
    },
    { isActive: focused },
  );

  const rows = Math.max(1, props.height - 4);
  const note = number ? `as +${store.me} with +${number}` : undefined;
  const body: ReactNode[] = [];
  if (state.problem) body.push(h(Text, { key: "problem", color: "red", wrap: "truncate-end" }, state.problem));
  else if (!bot) body.push(h(Text, { key: "none", dimColor: true }, "no bot selected"));
  else if (!number) body.push(h(Text, { key: "why", dimColor: true, wrap: "wrap" }, "this bot is not connected yet"));
  else {
    const lines = (state.chats.get(number) ?? []).slice(-(rows - 1));
    if (lines.length === 0) body.push(h(Text, { key: "hint", dimColor: true }, "Tab, then type .menu and Enter"));
    for (const [index, line] of lines.entries()) {
      const who = line.from === "you" ? "you" : line.from === "bot" ? "bot" : "  !";
      body.push(
        h(
          Text,
          { key: `l${index}`, wrap: "truncate-end", ...(line.from === "note" ? { color: "yellow" } : {}) },
          h(Text, { bold: line.from === "bot", color: line.from === "you" ? "cyan" : "green" }, `${who} `),
          line.text.replace(/\s*\n\s*/g, " ⏎ "),
        ),
      );
    }
  }
  return h(
    Pane,
    { title: "Chat", note, height: props.height, width: props.width },
    h(Box, { flexDirection: "column", flexGrow: 1 }, ...body),
    h(
      Text,
      { wrap: "truncate-start" },
      h(Text, { color: focused ? "cyan" : "gray" }, "> "),
      focused ? draft : h(Text, { dimColor: true }, "Tab to type"),
      focused ? h(Text, { inverse: true }, " ") : null,
    ),
  );
}
