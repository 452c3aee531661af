import { tools } from "../../src/tools.ts";
import type { Target } from "./targets.ts";

/** Every name the multi-call binary answers to; the first is the file, the rest hard links. */
export const NAMES = Object.keys(tools);

/** The names a target's tarball carries: the client alone where the host tools do not run. */
export const namesFor = (t: Target): string[] => (t.hostTools ? NAMES : ["dstack"]);
