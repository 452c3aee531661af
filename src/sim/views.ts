/** The simulated VMM's read-only answers: Status, ListImages, GetMeta (Dstack-TEE/dstack: dstack/vmm/src/main_service.rs). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listImages } from "../host/images/images.ts";
import type { SimConfig } from "./config.ts";
import { type VmStore, vmInfo } from "./store.ts";
import { type Obj, typed } from "./wire.ts";

/** Creation order, then the `ids` filter, the `keyword` substring filter, and paging (both or neither). */
export function statusView(cfg: SimConfig, store: VmStore, body: Obj) {
  typed(body, "ids", "array");
  typed(body, "brief", "boolean");
  typed(body, "keyword", "string");
  typed(body, "page", "number");
  typed(body, "page_size", "number");
  const ids = (body.ids as string[] | undefined) ?? [];
  const kw = (body.keyword as string | undefined) ?? "";
  let list = [...store.vms.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  if (ids.length) list = list.filter((v) => ids.includes(v.id));
  if (kw) list = list.filter((v) => [v.config.name, v.id, v.appId, v.config.image].some((s) => s.includes(kw)));
  const total = list.length;
  const page = Number(body.page ?? 0);
  const size = Number(body.page_size ?? 0);
  if (page > 0 && size > 0) list = list.slice((page - 1) * size, page * size);
  return { vms: list.map((v) => vmInfo(v, body.brief === true)), port_mapping_enabled: cfg.portMapping.enabled, total };
}

const IMAGE_VIEW_KEYS = [
  "cmdline",
  "kernel",
  "initrd",
  "hda",
  "rootfs",
  "bios",
  "bios-sev",
  "rootfs_hash",
  "shared_ro",
  "version",
  "is_dev",
  "ovmf_variant",
];

/** Each image with `description` = the compact JSON of its parsed metadata view. */
export function imagesView(cfg: SimConfig) {
  return {
    images: listImages(cfg.imagePath).map((i) => {
      const meta = JSON.parse(readFileSync(join(i.dir, "metadata.json"), "utf8")) as Obj;
      const view = Object.fromEntries(
        IMAGE_VIEW_KEYS.map((k) => [k, k === "version" ? i.version : (meta[k] ?? (k === "shared_ro" || k === "is_dev" ? false : null))]),
      );
      return { name: i.name, description: JSON.stringify(view), version: i.version, is_dev: i.isDev };
    }),
  };
}

export function metaView(cfg: SimConfig) {
  return {
    kms: { url: cfg.kmsUrls[0] ?? "", urls: cfg.kmsUrls },
    gateway: {
      url: cfg.gatewayUrls[0] ?? "",
      base_domain: cfg.gateway.baseDomain,
      port: cfg.gateway.port,
      agent_port: cfg.gateway.agentPort,
      urls: cfg.gatewayUrls,
    },
    resources: { max_cvm_number: cfg.cidPoolSize, max_allocable_vcpu: cfg.maxVcpu, max_allocable_memory_in_mb: cfg.maxMemory },
    networking: { supported_modes: ["user"], default_mode: "user", default_bridge: "" },
  };
}
