import { describe, expect, test } from "bun:test";
import { withImage } from "../../../src/core/compose/replace-image.ts";
import { UsageError } from "../../../src/core/errors.ts";

describe("withImage", () => {
  test("replaces the image of the one service; the rest stays", () => {
    const before = 'services:\n  app:\n    image: "busybox"\n    command:\n      - "sleep"\n    ports:\n      - "8080:8080"\n';
    const after = withImage(before, "busybox:2", "web");
    expect(after).toBe(before.replace('image: "busybox"', 'image: "busybox:2"')); // the scalar keeps its quoting
  });
  test("several services, or none: a usage error naming them and -c", () => {
    const two = "services:\n  web:\n    image: nginx\n  db:\n    image: redis\n";
    expect(() => withImage(two, "nginx:2", "pair")).toThrow(UsageError);
    expect(() => withImage(two, "nginx:2", "pair")).toThrow("pair runs 2 services (web, db): a new IMAGE is ambiguous");
    expect(() => withImage("version: '3'\n", "x", "v")).toThrow("v runs 0 services (none found)");
  });
});
