/** `dstack secret`: list (default), get, set, delete — the client's secrets for `${{ secrets.NAME }}` (src/client/apply/secrets.ts). */
import { confirm } from "../../../client/apply/confirm.ts";
import { checkSecretName, readSecrets, secretsPath, updateSecrets } from "../../../client/apply/secrets.ts";
import { NotFoundError } from "../../../core/errors.ts";
import { out } from "../../../core/io.ts";
import { formatJson, formatTable } from "../../../core/text/output.ts";
import { outputArgs, yesArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";

const name = { name: { type: "positional", required: true, description: "The secret's name", valueHint: "NAME" } } as const;

const list = defineCommand({
  meta: { name: "list", alias: ["ls"], description: "The secrets' names (values masked)" },
  args: { ...outputArgs },
  run({ args, io, env }) {
    const s = readSecrets(secretsPath(env));
    const names = Object.keys(s).sort();
    if (args.json) out(io, formatJson(names.map((n) => ({ name: n }))));
    else
      out(
        io,
        formatTable(names, [
          { header: "NAME", get: (n) => n },
          { header: "VALUE", get: () => "******" },
        ]),
      );
  },
});

export default defineCommand({
  meta: { name: "secret", description: "The client's secrets for ${{ secrets.NAME }} in .dstack.yml (0600; only ever sealed into a run)" },
  default: "list",
  subCommands: {
    list,
    get: defineCommand({
      meta: { name: "get", description: "Print a secret's value" },
      args: { ...name },
      run({ args, io, env }) {
        const s = readSecrets(secretsPath(env));
        if (!Object.hasOwn(s, args.name)) throw new NotFoundError(`Secret ${args.name} does not exist`);
        out(io, s[args.name]!);
      },
    }),
    set: defineCommand({
      meta: { name: "set", description: "Set a secret: dstack secret set NAME VALUE" },
      args: { ...name, value: { type: "positional", required: true, description: "The value", valueHint: "VALUE" } },
      async run({ args, io, env }) {
        checkSecretName(args.name);
        await updateSecrets(secretsPath(env), (s) => {
          s[args.name] = String(args.value);
        });
        out(io, "OK");
      },
    }),
    delete: defineCommand({
      meta: { name: "delete", alias: ["rm"], description: "Delete a secret" },
      args: { ...name, ...yesArgs },
      async run({ args, io, env }) {
        const path = secretsPath(env);
        if (!Object.hasOwn(readSecrets(path), args.name)) throw new NotFoundError(`Secret ${args.name} does not exist`);
        if (!(await confirm(io, `Delete the secret ${args.name}?`, args.yes === true))) return 0;
        await updateSecrets(path, (s) => {
          delete s[args.name];
        });
        out(io, "OK");
      },
    }),
  },
});
