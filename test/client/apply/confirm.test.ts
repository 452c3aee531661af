import { describe, expect, test } from "bun:test";
import { confirm, parseAnswer } from "../../../src/client/apply/confirm.ts";
import { UsageError } from "../../../src/core/errors.ts";
import { captureIo } from "../../helpers/cli.ts";

describe("confirm", () => {
  test("answers", () => {
    for (const y of ["y", "Y", "yes", " YES "]) expect(parseAnswer(y)).toBe(true);
    for (const n of ["n", "No"]) expect(parseAnswer(n)).toBe(false);
    expect(parseAnswer("maybe")).toBeUndefined();
  });
  test("-y asks nothing", async () => {
    const io = captureIo();
    expect(await confirm(io, "Submit the run x?", true)).toBe(true);
    expect(io.err).toBe("");
  });
  test("without a terminal the answer is read from stdin (echo n | …)", async () => {
    const io = captureIo({ stdin: "n\n" });
    expect(await confirm(io, "Submit the run x?", false)).toBe(false);
    expect(io.err).toBe("Submit the run x? [y/n]: n\n");
    expect(await confirm(captureIo({ stdin: "y\nrest" }), "q?", false)).toBe(true);
  });
  test("no answer, or another word, changes nothing", async () => {
    await expect(confirm(captureIo({ stdin: "" }), "q?", false)).rejects.toThrow(UsageError);
    await expect(confirm(captureIo({ stdin: "sure\n" }), "q?", false)).rejects.toThrow('answer "sure" is neither y nor n');
  });
  test("on a terminal it asks again until y or n", async () => {
    const io = captureIo({ tty: true, answers: ["x", "y"] });
    expect(await confirm(io, "Update the run?", false)).toBe(true);
    expect(io.err).toBe("Update the run? [y/n]: Please enter Y or N\nUpdate the run? [y/n]: ");
  });
});
