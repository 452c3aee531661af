import { version } from "../../core/version.ts";
import { defineCommand } from "../shared/command.ts";

export default defineCommand({
  meta: { name: "dstack", version, description: "Deploy and manage confidential apps on a dstack host" },
  subCommands: {
    apply: () => import("./apply.ts").then((m) => m.default),
    attach: () => import("./attach.ts").then((m) => m.default),
    delete: () => import("./delete.ts").then((m) => m.default),
    offer: () => import("./offer.ts").then((m) => m.default),
    secret: () => import("./secret.ts").then((m) => m.default),
    run: () => import("./run.ts").then((m) => m.default),
    deploy: () => import("./deploy.ts").then((m) => m.default),
    ps: () => import("./ps.ts").then((m) => m.default),
    logs: () => import("./logs.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
    start: () => import("./start.ts").then((m) => m.default),
    restart: () => import("./restart.ts").then((m) => m.default),
    rm: () => import("./rm.ts").then((m) => m.default),
    inspect: () => import("./inspect.ts").then((m) => m.default),
    upgrade: () => import("./upgrade.ts").then((m) => m.default),
    allowlist: () => import("./allowlist/index.ts").then((m) => m.default),
    context: () => import("./context/index.ts").then((m) => m.default),
    system: () => import("./system/index.ts").then((m) => m.default),
  },
});
