/**
 * Run under `prlimit --fsize=8192` by log-file.test.ts: writes that stop at the file size limit
 * (a full disk, as the kernel sees it: a short write, then EFBIG) are undone to the last whole
 * line; once the file has room again (emptied here from outside), the next write says how many
 * lines were lost. Prints nothing; the test reads the file.
 */
import { truncateSync } from "node:fs";
import { LogFile } from "../../../src/host/services/log-file.ts";

const path = process.argv[2]!;
const log = new LogFile(path, { maxBytes: 1 << 20, keep: 2 }, (n, why) => `lost ${n} line(s): ${why}\n`);
const line = (i: number) => `line ${i} ${"x".repeat(90)}\n`;
let batch = "";
for (let i = 0; i < 82; i++) batch += line(i); // 82 × 99 bytes: 8118, fits
log.write(batch);
batch = "";
for (let i = 82; i < 90; i++) batch += line(i); // 74 bytes fit before the limit, then EFBIG: all 8 lost
log.write(batch);
log.write(line(90)); // with the notice before it, too long again: 9 lost
truncateSync(path, 0); // room again
log.write(line(91));
await log.close();
