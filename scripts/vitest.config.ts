import { workspaceProject } from "../vitest.shared.ts";

// The scripts' own tests start whole stacks (`npm run dev`): minutes, not seconds.
export default workspaceProject("scripts", { testTimeout: 240_000 });
