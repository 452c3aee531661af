/** What the VMM simulator tells a VM's guest agent about the VM it serves. */
export interface GuestVmInfo {
  /** 20 bytes, hex (no 0x) */
  appId: string;
  /** 20 bytes hex, or "" when the app-compose sets no_instance_id */
  instanceId: string;
  /** sha256 of the app-compose bytes, hex */
  composeHash: string;
  /** the app-compose.json text exactly as deployed (its hash is composeHash) */
  appCompose: string;
  /** the image's pin (its digest.txt), hex; "" when the image has none */
  osImageHash: string;
  /** 32 bytes, hex */
  deviceId: string;
  vmName: string;
  /** vCPUs and memory of the VM, for vm_config (optional; 0 when unknown) */
  vcpu?: number;
  memoryMb?: number;
}

export interface GuestAgentOptions {
  /** the VM's dstack.sock */
  socketPath: string;
  /** the VM's legacy tappd.sock (served only when given) */
  legacySocketPath?: string;
  vm: GuestVmInfo;
  /** the per-host simulated KMS root secret: 32 random bytes, mode 0600, created when missing */
  keyRootPath: string;
  /**
   * Where the events the app emits are kept (one file per VM, under its state), so an
   * agent restarted while the VM runs keeps RTMR3; remove it when the VM boots again.
   * Without it, emitted events live as long as the agent.
   */
  runtimeEventsPath?: string;
}

export interface GuestAgent {
  close(): Promise<void>;
}
