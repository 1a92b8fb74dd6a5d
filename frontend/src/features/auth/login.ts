// Signing in: the OAuth2 password form of POST /auth/token, through the typed client, into a Session.

import { fetchClient } from "../../services/api/openapi";
import type { Role, Session } from "../../services/api/session";

export async function login(email: string, password: string, now: number = Date.now()): Promise<Session> {
  const { data } = await fetchClient.POST("/auth/token", {
    body: { username: email, password, scope: "" },
    bodySerializer: (body) => new URLSearchParams({ username: body.username, password: body.password }),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!data) throw new Error("the server answered the sign-in without a token");
  return {
    token: data.access_token,
    email: data.email,
    role: data.role as Role,
    tenantId: data.tenant_id,
    expiresAt: now + data.expires_in * 1000,
  };
}
