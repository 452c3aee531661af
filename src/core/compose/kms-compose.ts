/** The KMS CVM's own app-compose manifest (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/config.rs `kms_app_compose`). */

import type { Platform } from "../render/host-config.ts";
import { type BuiltAppCompose, buildAppCompose } from "./app-compose.ts";

export const KMS_VM_NAME = "dstack-kms";
export const DEFAULT_KMS_IMAGE = "dstacktee/dstack-kms:0.5.11";

export function kmsDockerCompose(kmsImage: string): string {
  return `services:
  kms:
    image: ${JSON.stringify(kmsImage)}
    volumes:
      - kms-volume:/kms
      - /var/run/dstack.sock:/var/run/dstack.sock
      - /dstack/kms-config/kms.toml:/kms/kms.toml:ro
    ports:
      - "8000:8000"
    restart: unless-stopped
    command: ["sh", "-c", "mkdir -p /kms/certs /kms/images && exec dstack-kms -c /kms/kms.toml"]
volumes:
  kms-volume:
`;
}

export function kmsInitScript(kmsToml: string): string {
  if (kmsToml.split("\n").includes("KMSTOML")) throw new Error("kms.toml contains the heredoc delimiter");
  return `mkdir -p /dstack/kms-config\ncat > /dstack/kms-config/kms.toml <<'KMSTOML'\n${kmsToml.replace(/\n$/, "")}\nKMSTOML\ntrue\n`;
}

export function kmsAppCompose(o: { kmsImage: string; kmsToml: string; platform: Platform }): BuiltAppCompose {
  return buildAppCompose({
    name: KMS_VM_NAME,
    dockerCompose: kmsDockerCompose(o.kmsImage),
    kms: false,
    gateway: false,
    localKeyProvider: o.platform === "tdx",
    publicLogs: true,
    publicSysinfo: true,
    noInstanceId: false,
    secureTime: false,
    allowedEnvs: [],
    extra: { public_tcbinfo: true, init_script: kmsInitScript(o.kmsToml) },
  });
}
