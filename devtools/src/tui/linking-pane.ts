import { Box, Text } from "ink";
import { type ReactNode, useEffect, useState } from "react";
import { leaseText } from "./bots-pane.ts";
import type { FleetBot, LinkingView } from "./fleet-watch.ts";
import { relative, stateColor } from "./format.ts";
import { h } from "./h.ts";
import { Pane } from "./pane.ts";
import { qrLines } from "./qr-text.ts";

export interface LinkingPaneProps {
  bot: FleetBot | undefined;
  linking: LinkingView;
  width: number;
  height: number;
  now: number;
}

/** The selected bot in full, with its QR code (or pairing code) while it waits to be linked. */
export function LinkingPane(props: LinkingPaneProps): ReactNode {
  const { bot } = props;
  if (!bot) {
    return h(
      Pane,
      { title: "Selected bot", width: props.width, height: props.height },
      h(Text, { dimColor: true }, "none"),
    );
  }
  const linking = props.linking.kind !== "none" && props.linking.key === bot.key ? props.linking : undefined;
  return h(
    Pane,
    { title: bot.name, note: `${bot.tenantId}/${bot.botId}`, width: props.width, height: props.height },
    h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { color: stateColor(bot.state) }, bot.problem ?? bot.state),
      bot.reason ? ` (${bot.reason})` : "",
      h(Text, { dimColor: true }, ` · wants ${bot.desiredState} · ${bot.transport}`),
    ),
    h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { dimColor: true }, "lease "),
      leaseText(bot, props.now),
      bot.lease ? h(Text, { dimColor: true }, ` · generation ${bot.lease.generation}`) : null,
      h(Text, { dimColor: true }, " · outbox "),
      bot.outboxDepth === undefined ? "…" : String(bot.outboxDepth),
    ),
    h(LinkingCodes, { linking, state: bot.state, width: props.width - 4, now: props.now }),
  );
}

function LinkingCodes(props: {
  linking: Exclude<LinkingView, { kind: "none" }> | undefined;
  state: string;
  width: number;
  now: number;
}): ReactNode {
  const { linking } = props;
  const waiting = props.state === "qr" || props.state === "pairing";
  if (!linking || linking.kind === "loading")
    return waiting ? h(Text, { dimColor: true }, "reading linking codes…") : null;
  if (linking.kind === "error") return h(Text, { color: "red" }, `linking codes: ${linking.message}`);
  const { qr, pairingCode } = linking.linking;
  if (pairingCode) {
    return h(
      Box,
      { flexDirection: "column", marginTop: 1 },
      h(Text, null, "Pairing code ", h(Text, { bold: true, color: "yellow" }, spaced(pairingCode.code))),
      h(
        Text,
        { dimColor: true },
        `expires ${relative(pairingCode.expiresAt, props.now)} · WhatsApp › Linked devices › Link with phone number`,
      ),
    );
  }
  if (qr) return h(QrCode, { code: qr.code, expiresAt: qr.expiresAt, width: props.width, now: props.now });
  return waiting ? h(Text, { dimColor: true }, "waiting for the runner to show a code…") : null;
}

function QrCode(props: { code: string; expiresAt: Date; width: number; now: number }): ReactNode {
  const [lines, setLines] = useState<{ code: string; lines: string[] } | { code: string; error: string }>();
  useEffect(() => {
    let current = true;
    qrLines(props.code).then(
      (rendered) => current && setLines({ code: props.code, lines: rendered }),
      (error: unknown) => current && setLines({ code: props.code, error: String(error) }),
    );
    return () => {
      current = false;
    };
  }, [props.code]);
  const caption = h(
    Text,
    { dimColor: true, wrap: "truncate-end" },
    `QR code, expires ${relative(props.expiresAt, props.now)} · WhatsApp › Linked devices › Link a device`,
  );
  if (!lines || lines.code !== props.code) return h(Box, { marginTop: 1 }, caption);
  if ("error" in lines) return h(Text, { color: "red" }, `cannot draw the QR code: ${lines.error}`);
  const width = Math.max(...lines.lines.map((line) => line.length));
  if (width > props.width) {
    return h(
      Box,
      { flexDirection: "column", marginTop: 1 },
      caption,
      h(Text, { color: "yellow" }, `The QR code needs ${width + 4} columns here: widen the terminal.`),
    );
  }
  // White on black, whatever the terminal's colours: a scanner needs dark modules on a light field.
  return h(
    Box,
    { flexDirection: "column", marginTop: 1 },
    caption,
    ...lines.lines.map((line, index) =>
      h(Text, { key: `${index}`, color: "white", backgroundColor: "black", wrap: "truncate-end" }, line),
    ),
  );
}

/** `ABCD-EFGH`, as WhatsApp shows pairing codes. */
function spaced(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}
