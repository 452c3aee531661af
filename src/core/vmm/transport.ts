/** How the client reaches a VMM: the endpoint options and the transport seam every transport implements. */
import type { Env } from "../io.ts";

export interface ConnectOptions {
  host: string;
  token?: string | undefined;
  timeoutMs?: number;
  insecureHostKey?: boolean;
  knownHostsPath?: string;
  identityFile?: string;
  /** core never prints: warnings (e.g. an unchecked host key) come here */
  onWarning?: (msg: string) => void;
  /** The command's environment, for ssh:// (USER, SSH_AUTH_SOCK); this process's when not given. */
  env?: Env;
}

/** How bytes reach the VMM: a fetch bound to one endpoint. */
export interface Transport {
  /** human name of the endpoint for messages */
  endpoint: string;
  /** Served by `dstack system dial-stdio` on the host: it adds the token and answers the Dstack.* calls. */
  dial?: boolean;
  fetch(path: string, init: RequestInit): Promise<Response>;
  close(): void;
}
