import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["core", "functions", "session-runner", "local-whatsapp", "devtools", "scripts"],
  },
});
