import { describe, expect, test } from "bun:test";
import { getComposeHash } from "@phala/dstack-sdk/get-compose-hash";
import { composeHashOf } from "../../../src/core/compose/app-compose.ts";
import { canonicalJson } from "../../../src/core/compose/canonical-json.ts";
import { randEnvName, randString, rng, sortDeep } from "./gen.ts";

describe("canonicalJson", () => {
  test("canonicalJson equals JSON.stringify of a key-sorted copy for nested values", () => {
    const r = rng(7);
    for (let i = 0; i < 50; i++) {
      const obj = {
        [randEnvName(r)]: randString(r, 10),
        z: [1, 2.5, -0, 1e21, { b: true, a: null, [randEnvName(r)]: [randString(r, 5)] }],
        a: { y: "ü", x: "😀" },
        n: { "10": 1, "2": 2, b: 3, "01": 4, "-1": 5, "4294967295": 6, "4294967294": 7, [String(Math.floor(r() * 1000))]: 8 },
      };
      expect(canonicalJson(obj)).toBe(JSON.stringify(sortDeep(obj)));
      expect(composeHashOf(canonicalJson(obj))).toBe(getComposeHash(obj as never));
    }
  });
});
