import { z } from "zod";

/**
 * The command engine's one log line per command that reached a decision: what operators read and
 * the TUI's recent-commands pane parses. One message, one field schema, for writer and readers.
 */
export const COMMAND_HANDLED = "command handled";

export const commandHandledFieldsSchema = z.object({
  /** The registered name (`unknown` for any name that is not one: a bounded set). */
  command: z.string(),
  outcome: z.string(),
  /** From the message's arrival to the decision, to 0.1 ms. */
  ms: z.number(),
});
export type CommandHandledFields = z.output<typeof commandHandledFieldsSchema>;
