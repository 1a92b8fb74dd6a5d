import { request } from "./client";
import type { Role, Session } from "./session";
import type { Schemas } from "./types";

type TokenOut = Schemas["ui_iot__routes__auth__TokenOut"];

export async function login(email: string, password: string, now: number = Date.now()): Promise<Session> {
  const form = new URLSearchParams({ username: email, password });
  const out = await request<TokenOut>("/auth/token", { method: "POST", form, anonymous: true });
  return {
    token: out.access_token,
    email: out.email,
    role: out.role as Role,
    tenantId: out.tenant_id,
    expiresAt: now + out.expires_in * 1000,
  };
}
