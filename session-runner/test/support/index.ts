/**
 * What other workspaces' tests need of the runner (devtools' TUI and phone-API tests run a real
 * runner, on the simulator or on the local WhatsApp server): the `@whatsdex/session-runner/testing` export, source only, never built.
 */

export { StatusWriter } from "../../src/bot/session/status-writer.ts";
export { allCommands } from "../../src/commands/all-commands.ts";
export { CommandRegistry } from "../../src/commands/command.ts";
export { infoCommands } from "../../src/commands/info/info-commands.ts";
export { type Runner, startRunner } from "../../src/http/server.ts";
export { mediaProcessors } from "../../src/jobs/media-processor.ts";
export { sessionMetrics } from "../../src/metrics/session-metrics.ts";
export { baileysTransport } from "../../src/transport/baileys/baileys-transport.ts";
export { trustLocalWhatsApp } from "../../src/transport/baileys/local-whatsapp.ts";
export { SimulatedWhatsApp } from "../../src/transport/simulator/simulator.ts";
export { startSimulatorPhones } from "../../src/transport/simulator/simulator-phones.ts";
export { tenantWithBots, testSupervisor } from "./fleet.ts";
export { testJobQueue } from "./jobs.ts";
export { linkedBot } from "./linked-bot.ts";
