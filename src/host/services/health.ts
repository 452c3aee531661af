/** `dstackup status`: each component of an install and its health. */
import { readFileSync } from "node:fs";
import { parseAllowlist } from "../../auth/allowlist.ts";
import { readAllowlistText } from "../../auth/allowlist-read.ts";
import { KMS_VM_NAME } from "../../core/compose/kms-compose.ts";
import type { Layout } from "../../core/layout.ts";
import { parseToml } from "../../core/render/toml.ts";
import { connectVmm, VmmUnreachableError } from "../../core/vmm/client.ts";
import type { InstallState } from "../install/state.ts";
import { bootDone, probeKms } from "../kms/kms.ts";
import { authAnswers } from "./readiness.ts";
import { Services } from "./services.ts";

export interface Component {
  name: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

export interface Health {
  healthy: boolean;
  components: Component[];
  vms?: number;
}

export async function checkHealth(layout: Layout, st: InstallState): Promise<Health> {
  const c: Component[] = [];
  const mgr = new Services(st.service_manager ?? "systemd", st.run_dir ?? layout.runDir);
  for (const unit of [st.auth_unit ?? layout.authUnit, st.vmm_unit ?? layout.vmmUnit]) {
    const s = await mgr.state(unit);
    c.push({
      name: unit,
      ok: s.active,
      detail: s.active ? `${mgr.kind === "systemd" ? "active" : "running"}${s.pid ? ` (pid ${s.pid})` : ""}` : "not running",
      ...(s.active
        ? {}
        : {
            hint: `see ${s.logHint}; \`dstackup install${st.simulate ? " --simulate" : ""}${st.install_prefix ? ` --prefix ${st.install_prefix}` : ""}\` starts it`,
          }),
    });
  }
  let token = "";
  try {
    token = readFileSync(st.client_token_path ?? layout.tokenPath, "utf8").trim();
  } catch (e) {
    c.push({
      name: "token",
      ok: false,
      detail: `cannot read ${st.client_token_path}: ${(e as Error).message}`,
      hint: "run as root (the token is 0600)",
    });
  }
  c.push(vmmConfigHealth(layout.vmmConfig));
  let vms: { id: string; name: string; status: string; boot_progress?: string; instance_id?: string | null }[] | undefined;
  try {
    const client = await connectVmm({ host: st.client_url, token, timeoutMs: 5000 });
    try {
      const list = (await client.status({ brief: true })).vms;
      vms = list;
      c.push({ name: "vmm", ok: true, detail: `answers at ${st.client_url} (${list.length} VM${list.length === 1 ? "" : "s"})` });
    } finally {
      client.close();
    }
  } catch (e) {
    c.push({ name: "vmm", ok: false, detail: `${st.client_url}: ${notAnswering(e)}` });
  }
  try {
    const info = await authAnswers(st.auth_port);
    c.push({
      name: "auth-webhook",
      ok: true,
      detail: `answers GET / on 127.0.0.1:${st.auth_port}${info && typeof info.chainId === "number" ? "" : ""}`,
    });
  } catch (e) {
    c.push({ name: "auth-webhook", ok: false, detail: `127.0.0.1:${st.auth_port}: ${notAnswering(e)}` });
  }
  const alPath = st.allowlist_path ?? layout.allowlistPath;
  try {
    const al = parseAllowlist(readAllowlistText(alPath));
    const apps = Object.entries(al.apps ?? {});
    const hashes = apps.reduce((n, [, a]) => n + ((a as { composeHashes?: string[] }).composeHashes?.length ?? 0), 0);
    c.push({
      name: "allowlist",
      ok: true,
      detail: `${alPath}: ${al.osImages.length ? `os images pinned: ${al.osImages.join(", ")}` : "any os image (unpinned)"}; ${apps.length} app(s), ${hashes} compose hash(es)`,
    });
  } catch (e) {
    c.push({
      name: "allowlist",
      ok: false,
      detail: `${alPath}: ${(e as Error).message}`,
      hint: "the webhook denies every app while the allowlist is invalid",
    });
  }
  if (st.kms_url) {
    const vm = vms?.find((v) => v.id === st.kms_vm_id) ?? vms?.find((v) => v.name === KMS_VM_NAME);
    if (!vms) c.push({ name: "kms", ok: false, detail: "unknown (VMM not answering)" });
    else if (!vm)
      c.push({
        name: "kms",
        ok: false,
        detail: `no KMS CVM (recorded id ${st.kms_vm_id ?? "none"})`,
        hint: "re-run dstackup install to deploy it",
      });
    else {
      const booted = vm.status === "running" && bootDone(vm.boot_progress) && !!vm.instance_id;
      // Beyond the VM: the KMS itself must answer GetMeta with its CA (not in a simulated CVM, which runs no KMS).
      let probe = st.simulate ? "simulated: no KMS service to probe" : "";
      let answers = true;
      if (booted && !st.simulate && st.kms_port) {
        try {
          probe = await probeKms(st.kms_port, 3000);
        } catch (e) {
          answers = false;
          probe = `the KMS does not answer GetMeta on https://127.0.0.1:${st.kms_port}: ${(e as Error).message}`;
        }
      }
      c.push({
        name: "kms",
        ok: booted && answers,
        detail: `vm ${vm.id} ${vm.status}${vm.boot_progress ? ` (${vm.boot_progress})` : ""}, ${st.kms_url}${probe ? ` (${probe})` : ""}`,
        ...(booted && answers ? {} : { hint: `dstack logs ${vm.id}` }),
      });
    }
  }
  const result: Health = { healthy: c.every((x) => x.ok), components: c };
  if (vms) result.vms = vms.length;
  return result;
}

/** Why a daemon did not answer, in status's words (not the client's advice to run status, nor Bun's guesses about the network). */
function notAnswering(e: unknown): string {
  const code = (e as { code?: string }).code;
  const detail = e instanceof VmmUnreachableError ? e.detail : (e as Error).message;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || /ECONNREFUSED|ConnectionRefused/.test(detail)) {
    return "nothing answers (connection refused)";
  }
  if (/ENOENT/.test(detail)) return "nothing answers (no socket)";
  return `does not answer: ${detail}`;
}

/** vmm.toml parses (the VMM reads it only at start: garbage shows at its next restart, so say so now). */
function vmmConfigHealth(path: string): Component {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { name: "vmm.toml", ok: false, detail: `cannot read ${path}: ${(e as Error).message}`, hint: "run as root (it is 0600)" };
  }
  try {
    parseToml(text, path);
    return { name: "vmm.toml", ok: true, detail: `${path} parses` };
  } catch (e) {
    return {
      name: "vmm.toml",
      ok: false,
      detail: (e as Error).message,
      hint: "fix it, or run the same `dstackup install` again to render it anew; the running VMM still has the one it started with",
    };
  }
}
