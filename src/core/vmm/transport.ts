/** How the client reaches a VMM: the endpoint options and the transport seam every transport implements. */

export interface ConnectOptions {
  host: string;
  token?: string | undefined;
  timeoutMs?: number;
  insecureHostKey?: boolean;
  knownHostsPath?: string;
  identityFile?: string;
  /** core never prints: warnings (e.g. an unchecked host key) come here */
  onWarning?: (msg: string) => void;
}

/** How bytes reach the VMM: a fetch bound to one endpoint. */
export interface Transport {
  /** human name of the endpoint for messages */
  endpoint: string;
  fetch(path: string, init: RequestInit): Promise<Response>;
  close(): void;
}
