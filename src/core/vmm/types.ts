/** dstack-vmm prpc wire types (Dstack-TEE/dstack: dstack/vmm/rpc/proto/vmm_rpc.proto): snake_case as on the wire, bytes lowercase hex. */

export interface PortMapping {
  protocol: string;
  host_port: number;
  vm_port: number;
  host_address: string;
}

export interface GpuSpec {
  slot: string;
}

export interface GpuConfig {
  gpus: GpuSpec[];
  attach_mode: "listed" | "all" | string;
}

export interface NetworkingConfig {
  mode: string;
  bridge_name?: string;
}

export interface VmConfiguration {
  name: string;
  image: string;
  compose_file: string;
  vcpu: number;
  memory: number;
  disk_size: number;
  ports: PortMapping[];
  encrypted_env: string;
  app_id: string | null;
  user_config: string;
  hugepages: boolean;
  pin_numa: boolean;
  gpus: GpuConfig | null;
  kms_urls: string[];
  gateway_urls: string[];
  stopped: boolean;
  no_tee: boolean;
  networking: NetworkingConfig | null;
  networks: NetworkingConfig[];
  simulated_tee: string | null;
}

export interface UpdateVmRequest {
  id: string;
  compose_file?: string;
  encrypted_env?: string;
  user_config?: string;
  update_ports?: boolean;
  ports?: PortMapping[];
  update_kms_urls?: boolean;
  kms_urls?: string[];
  update_gateway_urls?: boolean;
  gateway_urls?: string[];
  gpus?: GpuConfig | null;
  vcpu?: number | null;
  memory?: number | null;
  disk_size?: number | null;
  image?: string | null;
  no_tee?: boolean | null;
  update_networking?: boolean;
  networks?: NetworkingConfig[];
}

export interface GuestEvent {
  event: string;
  body: string;
  timestamp: number;
}

export interface NetworkInterfaceStatus {
  mode: string;
  backend: string;
  mac: string;
  bridge_name: string | null;
  netdev_id: string;
}

export type VmStatus = "running" | "exited" | "stopping" | "stopped" | "removing";

export interface VmInfo {
  id: string;
  name: string;
  status: VmStatus | string;
  uptime: string;
  app_url: string | null;
  app_id: string;
  instance_id: string | null;
  configuration: VmConfiguration | null;
  exited_at: string | null;
  boot_progress: string;
  boot_error: string;
  shutdown_progress: string;
  image_version: string;
  events: GuestEvent[];
  interfaces: NetworkInterfaceStatus[];
}

export interface StatusRequest {
  ids?: string[];
  brief?: boolean;
  keyword?: string;
  page?: number;
  page_size?: number;
}

export interface StatusResponse {
  vms: VmInfo[];
  port_mapping_enabled: boolean;
  total: number;
}

export interface ImageInfo {
  name: string;
  description: string;
  version: string;
  is_dev: boolean;
}

export interface GetInfoResponse {
  found: boolean;
  info: VmInfo | null;
}

export interface PublicKeyResponse {
  public_key: string;
  signature: string;
  timestamp: number;
  signature_v1: string;
}

export interface GetMetaResponse {
  kms: { url: string; urls: string[] };
  gateway: { url: string; base_domain: string; port: number; agent_port: number; urls: string[] };
  resources: { max_cvm_number: number; max_allocable_vcpu: number; max_allocable_memory_in_mb: number };
  networking: { supported_modes: string[]; default_mode: string; default_bridge: string };
}

export interface VersionResponse {
  version: string;
  rev: string;
}

export interface ListGpusResponse {
  gpus: { slot: string; product_id: string; description: string; is_free: boolean }[];
  allow_attach_all: boolean;
}

export type LogChannel = "serial" | "stdout" | "stderr";

/** A VmConfiguration with every field at its wire default. */
export function defaultVmConfiguration(): VmConfiguration {
  return {
    name: "",
    image: "",
    compose_file: "",
    vcpu: 0,
    memory: 0,
    disk_size: 0,
    ports: [],
    encrypted_env: "",
    app_id: null,
    user_config: "",
    hugepages: false,
    pin_numa: false,
    gpus: null,
    kms_urls: [],
    gateway_urls: [],
    stopped: false,
    no_tee: false,
    networking: null,
    networks: [],
    simulated_tee: null,
  };
}
