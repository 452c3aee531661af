import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { formatBytes, formatJson } from "../../core/text/output.ts";
import { createBundle } from "../../host/install/bundle.ts";
import { outputArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";

const create = defineCommand({
  meta: { name: "create", description: "Pack dstack-vmm, supervisor, a guest image and the key provider into one offline bundle" },
  args: {
    output: { type: "string", alias: "o", required: true, description: "Bundle file to write (.tar.gz)", valueHint: "FILE" },
    "sign-key": {
      type: "string",
      description: "SSH private key that signs the bundle (FILE.sha256.sig); the target trusts its .pub with --trusted-key",
      valueHint: "KEY",
    },
    "vmm-bin": { type: "string", description: "dstack-vmm binary" },
    "supervisor-bin": { type: "string", description: "supervisor binary" },
    image: { type: "string", description: "Guest image directory (with metadata.json and digest.txt)", valueHint: "DIR" },
    "key-provider-src": { type: "string", description: "Directory with the key provider's docker-compose.yaml" },
    ...outputArgs,
  },
  async run({ args, io }) {
    const file = resolve(String(args.output));
    const signKey = args["sign-key"];
    if (!signKey)
      throw new UsageError(
        "a bundle is signed by its maker: pass --sign-key KEY (an SSH private key, e.g. ~/.ssh/id_ed25519); the target host then trusts KEY.pub with `dstackup install --bundle FILE --trusted-key KEY.pub`",
      );
    const r = await createBundle({
      out: file,
      signKey: resolve(signKey),
      vmmBin: args["vmm-bin"],
      supervisorBin: args["supervisor-bin"],
      image: args.image,
      keyProviderSrc: args["key-provider-src"],
    });
    const pub = `${resolve(signKey)}.pub`;
    if (args.json) out(io, formatJson({ file, sha256: r.sha256, files: r.files, bytes: r.bytes, signature: `${file}.sha256.sig` }));
    else
      out(
        io,
        `${file} (${formatBytes(r.bytes)}, ${r.files} files, sha256 ${r.sha256}, signed: ${file}.sha256.sig)\n` +
          `copy it with ${basename(file)}.sha256 and ${basename(file)}.sha256.sig; install on the target with:\n` +
          `  sudo dstackup install --bundle ${file} --trusted-key ${existsSync(pub) ? pub : "KEY.pub"}`,
      );
  },
});

export default defineCommand({
  meta: { name: "bundle", description: "Offline bundles for air-gapped hosts" },
  subCommands: { create },
});
