import { defineCommand } from "citty";
import { version } from "../shared/version.ts";

const life = () => import("./lifecycle.ts");

export default defineCommand({
  meta: { name: "dstack", version, description: "Deploy and manage confidential apps on a dstack host" },
  subCommands: {
    run: () => import("./run.ts").then((m) => m.default),
    deploy: () => import("./deploy.ts").then((m) => m.default),
    ps: () => import("./ps.ts").then((m) => m.default),
    logs: () => import("./logs.ts").then((m) => m.default),
    stop: () => life().then((m) => m.stop),
    start: () => life().then((m) => m.start),
    restart: () => life().then((m) => m.restart),
    rm: () => life().then((m) => m.rm),
    inspect: () => import("./inspect.ts").then((m) => m.default),
    upgrade: () => import("./upgrade.ts").then((m) => m.default),
    allowlist: () => import("./allowlist.ts").then((m) => m.default),
  },
});
