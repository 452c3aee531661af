/** Opening a VMM client for a command: the endpoint from flags, env and install state, then the connection. */
import { DstackError } from "../../core/errors.ts";
import type { Env, Io } from "../../core/io.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import { hostAllowlist } from "../allowlist/allowlist-access.ts";
import type { HostInfo } from "./dial-stdio.ts";
import { connectEndpoint, type Endpoint, type EndpointFlags, kmsSignerOf, resolveEndpoint } from "./endpoint.ts";
import { hostCall } from "./host-call.ts";

/** What the client's flows need from the command that runs them: its output, its environment, where warnings go. */
export interface ClientRun {
  io: Io;
  env: Env;
  warn: (message: string) => void;
  /** Our version, which an ssh:// host's dstack must match. */
  version?: string;
}

export async function openClient(
  flags: EndpointFlags,
  run: ClientRun,
  opts: { timeoutMs?: number } = {},
): Promise<{ c: VmmClient; ep: Endpoint }> {
  const ep = resolveEndpoint(flags, run.env);
  if (ep.tokenProblem) run.warn(ep.tokenProblem);
  const c = await connectEndpoint(ep, flags, run.warn, opts.timeoutMs, run.env);
  if (!c.dial) return { c, ep };
  try {
    return { c, ep: await fromHost(c, ep, run) };
  } catch (e) {
    c.close();
    throw e;
  }
}

/** An ssh:// host's facts, as its own dstack reads them there. */
async function fromHost(c: VmmClient, ep: Endpoint, run: ClientRun): Promise<Endpoint> {
  const h = await hostCall<HostInfo>(c, "Dstack.HostInfo");
  if (run.version && h.version !== run.version) {
    throw new DstackError(`${ep.host} runs dstack ${h.version}, this is dstack ${run.version}: the two must match`, {
      hint: `install dstack ${run.version} on the host (\`curl -fsSL <release-url>/install.sh | sh -s -- --version ${run.version}\`, see docs/install.md)`,
    });
  }
  if (h.portPolicyProblem) run.warn(h.portPolicyProblem);
  const out: Endpoint = {
    ...ep,
    allowlistPath: h.allowlistPath,
    allowlist: hostAllowlist(c, h.allowlistPath, ep.host),
    image: h.image ?? undefined,
  };
  if (h.portPolicy) out.portPolicy = h.portPolicy;
  // pinned here (--kms-signer, DSTACK_KMS_SIGNER) wins over what the host recorded at install
  const signer =
    ep.kmsSigner ?? kmsSignerOf(undefined, undefined, h.kmsSigner ?? undefined, `the kms_signer ${ep.host} recorded at install`);
  if (signer) out.kmsSigner = signer;
  return out;
}
