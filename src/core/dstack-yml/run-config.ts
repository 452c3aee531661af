/**
 * The keys every run type shares (dstackai's BaseRunConfiguration, dstackai/dstack:
 * src/dstack/_internal/core/models/configurations.py), as the model this toolchain builds from
 * them. Keys whose meaning a confidential host cannot honour yet are errors that say why.
 */
import { type EnvSpec, parseEnv } from "./forms/env.ts";
import { type FileMapping, parseFileMapping, parseRepo, type RepoSpec } from "./forms/files.ts";
import { parseVolume, type VolumeSpec } from "./forms/volumes.ts";
import { PROFILE_KEYS, type ProfileSettings } from "./profile.ts";
import { defaultResources, grammar, parseResources, type ResourcesSpec } from "./resources/resources.ts";
import type { KeyTable } from "./yaml/key-table.ts";
import { bool, list, obj, str } from "./yaml/values.ts";

export type RunType = "task" | "service" | "dev-environment";

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface RunConfigurationBase extends ProfileSettings {
  type: RunType;
  name?: string;
  image?: string;
  user?: string;
  privileged: boolean;
  entrypoint?: string;
  workingDir?: string;
  registryAuth?: RegistryAuth;
  /** "3.9" … "3.14" */
  python?: string;
  env: EnvSpec;
  /** `/bin/sh`, `/bin/bash` or an absolute path, as given resolved */
  shell?: string;
  resources: ResourcesSpec;
  volumes: VolumeSpec[];
  repos: RepoSpec[];
  files: FileMapping[];
}

export const PYTHON_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"] as const;
const NAME_RE = /^[a-z][a-z0-9-]{1,40}$/;

export function baseDefaults(type: RunType): RunConfigurationBase {
  return { type, privileged: false, env: new Map(), resources: defaultResources(), volumes: [], repos: [], files: [], cloudOnly: [] };
}

const noEffect = () => {};

export const BASE_KEYS: KeyTable<RunConfigurationBase> = {
  ...(PROFILE_KEYS as KeyTable<RunConfigurationBase>),
  type: noEffect,
  name(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s === undefined) return;
    if (!NAME_RE.test(s)) issues.error(path, `Invalid run name ${JSON.stringify(s)}: names match ^[a-z][a-z0-9-]{1,40}$`);
    else c.name = s;
  },
  image(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s !== undefined) c.image = s;
  },
  user(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s === undefined) return;
    if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?::[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$/.test(s))
      issues.error(path, "user is user[:group], names or ids");
    else c.user = s;
  },
  privileged(v, path, issues, c) {
    c.privileged = bool(v, path, issues) ?? false;
  },
  entrypoint(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s !== undefined) c.entrypoint = s;
  },
  working_dir(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s === undefined) return;
    if (!s.startsWith("/") && !s.startsWith("~")) issues.error(path, "working_dir must be absolute");
    else c.workingDir = s;
  },
  home_dir: noEffect,
  registry_auth(v, path, issues, c) {
    const o = obj(v, path, issues);
    if (!o) return;
    issues.unknownKeys(path, o, ["username", "password"]);
    const username =
      o.username == null ? issues.error([...path, "username"], "Field required") : str(o.username, [...path, "username"], issues);
    const password =
      o.password == null ? issues.error([...path, "password"], "Field required") : str(o.password, [...path, "password"], issues);
    if (username !== undefined && password !== undefined) c.registryAuth = { username, password };
  },
  python(v, path, issues, c) {
    // YAML reads `python: 3.10` as the float 3.1; dstackai special-cases it.
    const s = v === 3.1 ? "3.10" : typeof v === "number" ? String(v) : typeof v === "string" ? v : undefined;
    if (s === undefined || !(PYTHON_VERSIONS as readonly string[]).includes(s)) {
      issues.error(path, `Input should be ${PYTHON_VERSIONS.map((x) => `'${x}'`).join(", ")}`);
    } else c.python = s;
  },
  nvcc(v, path, issues) {
    if (bool(v, path, issues)) {
      issues.error(path, "cannot be honoured here: the default images have no CUDA toolkit; set image: to one that has nvcc");
    }
  },
  single_branch(v, path, issues) {
    bool(v, path, issues);
  },
  env(v, path, issues, c) {
    const e = grammar(v, path, issues, parseEnv);
    if (e) c.env = e;
  },
  shell(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s === undefined) return;
    if (s === "sh" || s === "bash") c.shell = `/bin/${s}`;
    else if (s.startsWith("/")) c.shell = s;
    else issues.error(path, `The shell ${JSON.stringify(s)} is not supported: use sh, bash or an absolute path`);
  },
  resources(v, path, issues, c) {
    const r = parseResources(v, path, issues);
    if (r) c.resources = r;
  },
  volumes(v, path, issues, c) {
    const l = list(v, path, issues);
    c.volumes = (l ?? []).flatMap((x, i) => grammar(x, [...path, i], issues, parseVolume) ?? []);
    c.volumes.forEach((vol, i) => {
      if (vol.kind === "network") {
        issues.error(
          [...path, i],
          `network volume ${vol.name.join("|")}: a confidential host has no network volumes; use an instance volume (HOST_PATH:PATH), kept on the CVM's own encrypted disk`,
        );
      }
    });
  },
  repos(v, path, issues, c) {
    const l = list(v, path, issues);
    if (l && l.length > 1) issues.error(path, "A maximum of one repo is currently supported");
    c.repos = (l ?? []).flatMap((x, i) => grammar(x, [...path, i], issues, parseRepo) ?? []);
  },
  files(v, path, issues, c) {
    const l = list(v, path, issues);
    c.files = (l ?? []).flatMap((x, i) => grammar(x, [...path, i], issues, parseFileMapping) ?? []);
  },
  docker(v, path, issues) {
    if (bool(v, path, issues)) {
      issues.error(
        path,
        "cannot be honoured on a confidential host yet: the CVM's container engine cannot be handed to a run safely (docker: true would give the run the whole CVM)",
      );
    }
  },
  dstack(v, path, issues) {
    if (bool(v, path, issues)) issues.error(path, "cannot be honoured here: there is no dstack server to expose inside a CVM");
  },
  setup(v, path, issues) {
    list(v, path, issues);
  },
};
