import { version } from "../../core/version.ts";
import { defineCommand } from "../shared/command.ts";

export default defineCommand({
  meta: { name: "dstackup", version, description: "Set up, check and tear down a dstack host (VMM, KMS, auth webhook)" },
  subCommands: {
    install: () => import("./install.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    destroy: () => import("./destroy.ts").then((m) => m.default),
    doctor: () => import("./doctor.ts").then((m) => m.default),
    image: () => import("./image.ts").then((m) => m.default),
    bundle: () => import("./bundle.ts").then((m) => m.default),
  },
});
