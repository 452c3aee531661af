import { resolve } from "node:path";
import { out } from "../../core/io.ts";
import { formatBytes, formatJson } from "../../core/output.ts";
import { createBundle } from "../../host/install/bundle.ts";
import { outputArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";

const create = defineCommand({
  meta: { name: "create", description: "Pack dstack-vmm, supervisor, a guest image and the key provider into one offline bundle" },
  args: {
    output: { type: "string", alias: "o", required: true, description: "Bundle file to write (.tar.gz)", valueHint: "FILE" },
    "vmm-bin": { type: "string", description: "dstack-vmm binary" },
    "supervisor-bin": { type: "string", description: "supervisor binary" },
    image: { type: "string", description: "Guest image directory (with metadata.json and digest.txt)", valueHint: "DIR" },
    "key-provider-src": { type: "string", description: "Directory with the key provider's docker-compose.yaml" },
    ...outputArgs,
  },
  async run({ args, io }) {
    const file = resolve(String(args.output));
    const r = await createBundle({
      out: file,
      vmmBin: args["vmm-bin"],
      supervisorBin: args["supervisor-bin"],
      image: args.image,
      keyProviderSrc: args["key-provider-src"],
    });
    if (args.json) out(io, formatJson({ file, sha256: r.sha256, files: r.files, bytes: r.bytes }));
    else
      out(
        io,
        `${file} (${formatBytes(r.bytes)}, ${r.files} files, sha256 ${r.sha256})\ninstall on the target with: sudo dstackup install --bundle ${file}`,
      );
  },
});

export default defineCommand({
  meta: { name: "bundle", description: "Offline bundles for air-gapped hosts" },
  subCommands: { create },
});
