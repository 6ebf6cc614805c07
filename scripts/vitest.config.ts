import { workspaceProject } from "../vitest.shared.ts";

// The scripts' own tests start whole stacks (`npm run dev`): minutes, not seconds, and a second
// set of emulators beside the suite's would starve its timing on a two-core machine, so they run
// after every other project has finished.
export default workspaceProject("scripts", { testTimeout: 240_000, groupOrder: 1 });
