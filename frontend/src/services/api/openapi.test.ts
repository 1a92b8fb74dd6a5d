import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "./client";
import { fetchClient, pathKey } from "./openapi";
import { loadSession, saveSession } from "./session";

afterEach(() => {
  vi.unstubAllGlobals();
  saveSession(null);
});

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("fetchClient", () => {
  it("sends the session's bearer token and fills path and query from the spec's names", async () => {
    saveSession({ token: "tok", email: "a@b.c", role: "admin", tenantId: "t1", expiresAt: Date.now() + 60_000 });
    const seen: Request[] = [];
    vi.stubGlobal("fetch", async (req: Request) => {
      seen.push(req);
      return answer(200, { group_id: "g 1", devices: [] });
    });
    const { data } = await fetchClient.GET("/customer/groups/{group_id}", { params: { path: { group_id: "g 1" } } });
    expect(data).toMatchObject({ group_id: "g 1" });
    const [req] = seen;
    expect(req?.headers.get("Authorization")).toBe("Bearer tok");
    expect(new URL(req?.url ?? "").pathname).toBe("/customer/groups/g%201");
  });

  it("turns an error body into ApiError with its code, message and fields", async () => {
    vi.stubGlobal("fetch", async () => answer(409, { error: "conflict", detail: "in use", jobs: ["j1"] }));
    const err = await fetchClient.DELETE("/customer/artifacts/{name}", { params: { path: { name: "fw" } } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "conflict", message: "in use", body: { jobs: ["j1"] } });
  });

  it("signs out on 401 of an authenticated call", async () => {
    saveSession({ token: "old", email: "a@b.c", role: "admin", tenantId: "t1", expiresAt: Date.now() + 60_000 });
    vi.stubGlobal("fetch", async () => answer(401, { error: "unauthorized", detail: "token expired" }));
    await expect(fetchClient.GET("/customer/groups")).rejects.toMatchObject({ status: 401 });
    expect(loadSession()).toBeNull();
  });

  it("reports an unreachable server as a network error", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(fetchClient.GET("/customer/groups")).rejects.toMatchObject({ status: 0, code: "network" });
  });
});

describe("pathKey", () => {
  it("is the prefix of openapi-react-query's keys for that path", () => {
    expect(pathKey("/customer/jobs")).toEqual(["get", "/customer/jobs"]);
  });
});
