/**
 * The names a CVM accepts: the VM (and app) name the VMM checks on CreateVm
 * (Dstack-TEE/dstack: dstack/vmm/src/main_service.rs) and the env var names the guest takes
 * from the encrypted env (dstack/dstack-util/src/parse_env_file.rs).
 */
import { UsageError } from "../errors.ts";

/** The VMM's rule for VM names (upstream main_service.rs: these characters only, empty allowed); the manifest name is the VM name. */
export function isVmName(name: string): boolean {
  return /^[A-Za-z0-9\-_. @~!$^()]*$/.test(name);
}
/** Env var names the guest accepts (upstream dstack/dstack-util/src/parse_env_file.rs). */
export const ENV_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throw a UsageError unless `name` is a valid app/VM name. */
export function checkAppName(name: string, flag = "--name"): void {
  if (name === "" || !isVmName(name)) {
    throw new UsageError(
      `invalid ${flag} ${JSON.stringify(name)}: a name is 1 or more of the characters A-Z a-z 0-9 and - _ . space @ ~ ! $ ^ ( )`,
    );
  }
}

/**
 * Throw a UsageError unless a user can see and type `name`: the VMM takes a blank name, one that
 * starts or ends with spaces, or "." and "..", but `ps` shows nothing (or a path) for them and
 * `stop NAME` can hardly name them. For names given with -n; an existing VM keeps its name.
 */
export function checkVisibleName(name: string, flag = "--name"): void {
  const bad = (why: string) =>
    new UsageError(`invalid ${flag} ${JSON.stringify(name)}: ${why}`, { hint: "pick a name you can read in `dstack ps`" });
  if (name.trim() === "") throw bad("a name must not be blank (it would be invisible in `dstack ps`)");
  if (name !== name.trim()) throw bad("a name must not start or end with a space");
  if (name === "." || name === "..") throw bad(`${JSON.stringify(name)} reads as a path, not a name`);
}

/** Throw a UsageError unless `key` is an env var name the guest accepts. */
export function checkEnvName(key: string, flag = "--env"): void {
  if (!ENV_NAME_RE.test(key) || key.length > 255) {
    throw new UsageError(`invalid ${flag} name ${JSON.stringify(key)}: env names match [A-Za-z_][A-Za-z0-9_]* (at most 255 characters)`);
  }
}
