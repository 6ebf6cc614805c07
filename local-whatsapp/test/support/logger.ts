import { pino } from "pino";

/** Silent unless LOCAL_WHATSAPP_LOG names a level (e.g. `debug`, `trace` for every stanza). */
export const serverLogger = () => pino({ level: process.env.LOCAL_WHATSAPP_LOG ?? "silent" });
