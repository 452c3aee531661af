import { version } from "../../core/version.ts";
import { defineCommand } from "../shared/command.ts";

export default defineCommand({
  meta: { name: "dstack-auth", version, description: "The KMS auth webhook: decides which apps get keys" },
  default: "serve",
  subCommands: {
    serve: () => import("./serve.ts").then((m) => m.default),
    check: () => import("./check.ts").then((m) => m.default),
    decide: () => import("./decide.ts").then((m) => m.default),
  },
});
