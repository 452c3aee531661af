import { defineCommand } from "citty";
import { version } from "../shared/version.ts";

export default defineCommand({
  meta: { name: "dstackup", version, description: "Set up, check and tear down a dstack host (VMM, KMS, auth webhook)" },
  subCommands: {
    // PENDING install: () => import("./install.ts").then((m) => m.default),
    // PENDING status: () => import("./status.ts").then((m) => m.default),
    // PENDING destroy: () => import("./destroy.ts").then((m) => m.default),
    // PENDING doctor: () => import("./doctor.ts").then((m) => m.default),
    image: () => import("./image.ts").then((m) => m.default),
    bundle: () => import("./bundle.ts").then((m) => m.default),
  },
});
