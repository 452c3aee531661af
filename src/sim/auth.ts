/**
 * The VMM's [auth] fairing (Dstack-TEE/dstack: dstack/crates/api-auth/src/lib.rs): X-Admin-Token,
 * Bearer, Basic (token as password, or as user with an empty password), GET ?token=.
 */
import { timingSafeEqual } from "node:crypto";
import { sha256Bytes } from "../core/hash.ts";
import type { SimConfig } from "./config.ts";

function tokenOk(cfg: SimConfig, presented: string): boolean {
  const h = (s: string) => sha256Bytes(s.trim());
  return cfg.tokens.some((t) => timingSafeEqual(h(t), h(presented)));
}

export function authorized(cfg: SimConfig, req: Request, url: URL): boolean {
  if (!cfg.authEnabled) return true;
  const admin = req.headers.get("x-admin-token");
  if (admin && tokenOk(cfg, admin)) return true;
  const a = req.headers.get("authorization");
  if (a) {
    if (/^bearer /i.test(a)) return tokenOk(cfg, a.slice(7));
    if (/^basic /i.test(a)) {
      const dec = Buffer.from(a.slice(6).trim(), "base64").toString();
      const i = dec.indexOf(":");
      const user = i < 0 ? dec : dec.slice(0, i);
      const pass = i < 0 ? "" : dec.slice(i + 1);
      return (pass !== "" && tokenOk(cfg, pass)) || (pass === "" && tokenOk(cfg, user));
    }
    return false;
  }
  if (req.method === "GET") {
    const t = url.searchParams.get("token");
    if (t !== null) return tokenOk(cfg, t);
  }
  return false;
}
