/**
 * `dstack delete -f X`: the run the configuration names (`name:` or `-n`), asked
 * `Delete the run NAME? [y/n]`, then its CVM powered off and removed and its
 * registration withdrawn when no other VM uses it: `Run NAME deleted`.
 */
import { DstackError, NotFoundError } from "../../core/errors.ts";
import { withdrawAfterRemove } from "../allowlist/registration.ts";
import type { EndpointFlags } from "../connect/endpoint.ts";
import { type ClientRun, openClient } from "../connect/session.ts";
import { dropAliasNote } from "../dev-env/ssh-files.ts";
import { waitGone } from "../vm-gone.ts";
import { confirm } from "./confirm.ts";
import { loadConfiguration } from "./load.ts";
import { describeVm } from "./runs.ts";

export interface DeleteFlags extends EndpointFlags {
  file?: string | undefined;
  name?: string | undefined;
  yes: boolean;
  cwd: string;
}

export async function deleteRun(f: DeleteFlags, run: ClientRun): Promise<number> {
  const { io } = run;
  const loaded = await loadConfiguration({ file: f.file, yes: f.yes, envOverrides: [], cwd: f.cwd, resolveEnv: false }, io, run.env);
  const name = f.name ?? loaded.config.name;
  if (!name) throw new DstackError("Configuration specifies no run to delete", { hint: "give the run a name: (or -n NAME)" });
  const { c, ep } = await openClient(f, run);
  try {
    const vm = (await c.status({ brief: false })).vms.find((v) => v.name === name && v.status !== "removing" && describeVm(v));
    if (!vm) throw new NotFoundError(`Run ${name} does not exist`);
    if (!(await confirm(io, `Delete the run ${name}?`, f.yes))) {
      io.stderr("\nExiting...\n");
      return 0;
    }
    if (vm.status === "running" || vm.status === "stopping") await c.stopVm(vm.id);
    await c.removeVm(vm.id);
    await waitGone(c, vm.id, `the run's VM`);
    const note = (await withdrawAfterRemove(c, ep.allowlist, vm)) + (await dropAliasNote(run.env, name));
    io.stderr(`Run ${name} deleted${note}\n`);
    return 0;
  } finally {
    c.close();
  }
}
