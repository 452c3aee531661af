/**
 * `dstack context` (docker's): named endpoints, one of them current — create, use, rm, show
 * here; ls and inspect in ls.ts (src/client/context/).
 */
import { contextsPath, readContexts, updateContexts } from "../../../client/context/store.ts";
import { currentContext, overriddenBy } from "../../../client/context/views.ts";
import { checkContextName, checkHostUrl, DEFAULT_CONTEXT } from "../../../core/context/contexts.ts";
import { NotFoundError, RefusedError, UsageError } from "../../../core/errors.ts";
import { out } from "../../../core/io.ts";
import { parseSigner } from "../../../core/keys/env-key-signature.ts";
import { formatJson } from "../../../core/text/output.ts";
import { logArgs, outputArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { createLogger } from "../../shared/log.ts";

const nameArg = { name: { type: "positional", required: true, description: "The context's name", valueHint: "NAME" } } as const;

const create = defineCommand({
  meta: { name: "create", description: "Name an endpoint: dstack context create NAME --host ssh://USER@HOST[?prefix=DIR]" },
  args: {
    ...nameArg,
    host: {
      type: "string",
      required: true,
      description: "The endpoint: ssh://[USER@]HOST[:PORT][?prefix=DIR], unix:PATH or http(s)://HOST:PORT",
      valueHint: "URL",
    },
    description: { type: "string", description: "What it is, for `context ls`", valueHint: "TEXT" },
    "kms-signer": {
      type: "string",
      description: "Pin the KMS signer env keys must carry (its k256_pubkey), over what the host recorded",
      valueHint: "0x…",
    },
    ...outputArgs,
  },
  async run({ args, io, env }) {
    checkContextName(args.name);
    const host = checkHostUrl(String(args.host));
    const description = args.description ?? "";
    const kmsSigner = args["kms-signer"] === undefined ? undefined : parseSigner(args["kms-signer"]);
    if (args["kms-signer"] !== undefined && !kmsSigner)
      throw new UsageError(`--kms-signer ${JSON.stringify(args["kms-signer"])} is not a secp256k1 public key`, {
        hint: "give the KMS's k256_pubkey in hex: 0x02… / 0x03… (33 bytes) or 0x04… (65 bytes)",
      });
    const path = contextsPath(env);
    await updateContexts(path, (s) => {
      if (s.contexts[args.name])
        throw new RefusedError(`context "${args.name}" already exists (${s.contexts[args.name]!.host})`, {
          hint: `remove it first (\`dstack context rm ${args.name}\`) or pick another name`,
        });
      s.contexts[args.name] = { host, description, ...(kmsSigner ? { kmsSigner } : {}) };
    });
    if (args.json) out(io, formatJson({ name: args.name, description, host, kmsSigner: kmsSigner ?? null, path }));
    else {
      out(io, args.name);
      createLogger(io, args).success(
        `created context "${args.name}" (${host}) in ${path}; \`dstack context use ${args.name}\` makes it current`,
      );
    }
  },
});

const use = defineCommand({
  meta: { name: "use", description: "Make a context the current one (`default`: this machine's install)" },
  args: { ...nameArg, ...logArgs },
  async run({ args, io, env }) {
    const path = contextsPath(env);
    await updateContexts(path, (s) => {
      if (args.name !== DEFAULT_CONTEXT && !s.contexts[args.name])
        throw new NotFoundError(`context "${args.name}" does not exist`, { hint: "see `dstack context ls`" });
      s.current = args.name === DEFAULT_CONTEXT ? undefined : args.name;
    });
    out(io, args.name);
    const log = createLogger(io, args);
    log.info(`current context is now "${args.name}"`);
    const by = overriddenBy(env);
    if (by) log.warn(`${by} is set and overrides the current context for commands run with it`);
  },
});

const rm = defineCommand({
  meta: { name: "rm", alias: ["remove"], description: "Remove contexts (the current one only with -f: then `default` is current)" },
  args: {
    name: { type: "positional", required: true, description: "The contexts' names", valueHint: "NAME…", variadic: true },
    force: { type: "boolean", alias: "f", description: "Remove the current context too" },
  },
  async run({ args, io, env }) {
    const names = args._;
    if (names.includes(DEFAULT_CONTEXT)) throw new UsageError(`the "${DEFAULT_CONTEXT}" context cannot be removed`);
    await updateContexts(contextsPath(env), (s) => {
      // all or nothing: every name is checked before any is removed
      for (const n of names) {
        if (!s.contexts[n]) throw new NotFoundError(`context "${n}" does not exist`, { hint: "see `dstack context ls`" });
        if (s.current === n && !args.force)
          throw new RefusedError(`context "${n}" is the current one`, {
            hint: `pass -f to remove it anyway (\`default\` becomes current), or \`dstack context use\` another first`,
          });
      }
      for (const n of names) {
        delete s.contexts[n];
        if (s.current === n) s.current = undefined;
      }
    });
    out(io, names.join("\n"));
  },
});

const show = defineCommand({
  meta: { name: "show", description: "Print the name of the context in use" },
  args: {},
  run({ io, env }) {
    readContexts(contextsPath(env)); // a damaged file is reported, not read as `default`
    out(io, currentContext(env));
  },
});

export default defineCommand({
  meta: { name: "context", description: "Named endpoints (ssh:// hosts…) as docker's contexts: create, ls, use, rm, inspect, show" },
  subCommands: {
    create,
    ls: () => import("./ls.ts").then((m) => m.ls),
    use,
    rm,
    inspect: () => import("./ls.ts").then((m) => m.inspect),
    show,
  },
});
