import { version } from "../../core/version.ts";
import { defineCommand } from "../shared/command.ts";

export default defineCommand({
  meta: { name: "dstack", version, description: "Deploy and manage confidential apps on a dstack host" },
  subCommands: {
    apply: () => import("./runs/apply.ts").then((m) => m.default),
    attach: () => import("./runs/attach.ts").then((m) => m.default),
    delete: () => import("./runs/delete.ts").then((m) => m.default),
    offer: () => import("./runs/offer.ts").then((m) => m.default),
    secret: () => import("./runs/secret.ts").then((m) => m.default),
    run: () => import("./vm/run.ts").then((m) => m.default),
    deploy: () => import("./vm/deploy.ts").then((m) => m.default),
    ps: () => import("./ps.ts").then((m) => m.default),
    logs: () => import("./logs.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
    start: () => import("./vm/start.ts").then((m) => m.default),
    restart: () => import("./vm/restart.ts").then((m) => m.default),
    rm: () => import("./vm/rm.ts").then((m) => m.default),
    inspect: () => import("./vm/inspect.ts").then((m) => m.default),
    upgrade: () => import("./vm/upgrade.ts").then((m) => m.default),
    allowlist: () => import("./allowlist/index.ts").then((m) => m.default),
    context: () => import("./context/index.ts").then((m) => m.default),
    system: () => import("./system/index.ts").then((m) => m.default),
  },
});
