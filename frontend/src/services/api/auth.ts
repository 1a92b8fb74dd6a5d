import { request } from "./client";
import type { Role, Session } from "./session";

interface TokenOut {
  access_token: string;
  token_type: string;
  expires_in: number;
  tenant_id: string;
  email: string;
  role: Role;
}

export async function login(email: string, password: string, now: number = Date.now()): Promise<Session> {
  const form = new URLSearchParams({ username: email, password });
  const out = await request<TokenOut>("/auth/token", { method: "POST", form, anonymous: true });
  return {
    token: out.access_token,
    email: out.email,
    role: out.role,
    tenantId: out.tenant_id,
    expiresAt: now + out.expires_in * 1000,
  };
}
