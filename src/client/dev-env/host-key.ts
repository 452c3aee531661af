/**
 * The dev environment's attested SSH host key, as the client gets it: the `[dstack]
 * ssh-host-key` line on the run's serial console (through the VMM's logs API), checked against
 * the VM's app id, the hash of the app-compose the VM was registered with (or, from `apply`,
 * the one it just planned), the authorized keys the user's identity seals, the OS image pin when
 * this client can read the install's image, and whether the VMM says it is the simulator. Waits
 * for the line (a CVM announces it once its key is made); undefined when Ctrl-C ends the wait.
 */
import { join } from "node:path";
import { composeHashOf } from "../../core/compose/app-compose.ts";
import { lastAnnouncement } from "../../core/dev-env/log-announcement.ts";
import { type VerifiedHostKey, verifyHostKey } from "../../core/dev-env/verify-host-key.ts";
import { DstackError, RefusedError } from "../../core/errors.ts";
import { resolveLayout } from "../../core/layout.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { readImagePin } from "../../host/images/images.ts";
import type { Endpoint } from "../connect/endpoint.ts";

const POLL_MS = 1000;

export interface Expected {
  appId: string;
  composeHash: string;
}

/** The os-image-hash of the VM's image, when the VMM is this install's and its image is readable. */
export function localImagePin(ep: Endpoint, prefix: string | undefined, vm: VmInfo): string | undefined {
  const layout = resolveLayout({ prefix });
  if (ep.source !== layout.stateFile || !vm.configuration?.image) return undefined;
  return readImagePin(join(layout.imageDir, vm.configuration.image));
}

async function logText(c: VmmClient, id: string): Promise<string> {
  let text = "";
  for await (const chunk of c.logs(id, { follow: false, lines: 100_000 })) text += chunk;
  return text;
}

export async function attestedHostKey(
  c: VmmClient,
  vm: VmInfo,
  o: {
    expected?: Expected | undefined;
    authorizedKeys: string;
    osImageHash?: string | undefined;
    timeoutMs: number;
    interrupted: Promise<void>;
    /** called once, when the first read finds no announcement yet */
    onWait?: () => void;
  },
): Promise<VerifiedHostKey | undefined> {
  const registered: Expected = { appId: vm.app_id, composeHash: composeHashOf(vm.configuration?.compose_file ?? "") };
  if (o.expected && (o.expected.appId !== registered.appId || o.expected.composeHash !== registered.composeHash)) {
    throw new RefusedError(
      `the VMM reports ${vm.name} as app ${registered.appId} with compose ${registered.composeHash}, not the ${o.expected.appId} / ${o.expected.composeHash} just applied`,
    );
  }
  const v = await c.version();
  const simulatorHost = /\bdstack-vmm-sim\b/.test(v.rev) || v.version.endsWith("-sim"); // its rev names it (src/sim/version.ts)
  const deadline = Date.now() + o.timeoutMs;
  let stop = false;
  let polls = 0;
  void o.interrupted.then(() => {
    stop = true;
  });
  for (;;) {
    const { found, malformed } = lastAnnouncement(await logText(c, vm.id));
    if (found) {
      const v = verifyHostKey(found, {
        ...(o.expected ?? registered),
        authorizedKeys: o.authorizedKeys,
        osImageHash: o.osImageHash,
        simulatorHost,
      });
      // without apply's plan, which app this is comes from the host
      if (!o.expected) v.unchecked.unshift(`which app: its app id and compose are the VMM's record (see \`dstack inspect ${vm.name}\`)`);
      return v;
    }
    if (Date.now() >= deadline) {
      throw new DstackError(
        `${vm.name} has not announced its SSH host key: no \`[dstack] ssh-host-key\` line on its serial console${malformed ? ` (one was malformed: ${malformed})` : ""}`,
        { hint: `its sshd may still be starting: try \`dstack attach ${vm.name}\` again, or see \`dstack logs ${vm.name} --diagnose\`` },
      );
    }
    if (polls++ === 0) o.onWait?.();
    await Promise.race([Bun.sleep(POLL_MS), o.interrupted]);
    if (stop) return undefined; // Ctrl-C while waiting
  }
}
