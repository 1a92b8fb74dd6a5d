import { describe, expect, it } from "vitest";

import { safeNext } from "../../features/auth/LoginPage";
import { errorMessage, withQuery } from "./client";
import { canWrite, loadSession, saveSession, type Session } from "./session";

describe("withQuery", () => {
  it("drops empty values and encodes the rest", () => {
    expect(withQuery("/x", { a: "1 2", b: undefined, c: "", d: null, e: 0, f: false })).toBe("/x?a=1+2&e=0&f=false");
    expect(withQuery("/x", { a: undefined })).toBe("/x");
    expect(withQuery("/x")).toBe("/x");
  });
});

describe("errorMessage", () => {
  it("reads the API's {error, detail} body", () => {
    expect(errorMessage(404, { error: "not_found", detail: "job 'x' not found" })).toEqual({
      code: "not_found",
      message: "job 'x' not found",
    });
  });
  it("falls back for bodies that are not the API's", () => {
    expect(errorMessage(502, null)).toEqual({ code: "error", message: "request failed (HTTP 502)" });
    expect(errorMessage(500, "oops")).toEqual({ code: "error", message: "request failed (HTTP 500)" });
  });
});

describe("session", () => {
  const session: Session = { token: "t", email: "a@b.c", role: "viewer", tenantId: "t1", expiresAt: 2_000 };

  it("round-trips, expires and clears", () => {
    saveSession(session);
    expect(loadSession(1_000)).toEqual(session);
    expect(loadSession(2_000)).toBeNull();
    expect(localStorage.getItem("iotcloud.session")).toBeNull();
    localStorage.setItem("iotcloud.session", "{broken");
    expect(loadSession(0)).toBeNull();
  });

  it("lets only admins and operators write", () => {
    expect(canWrite(null)).toBe(false);
    expect(canWrite(session)).toBe(false);
    expect(canWrite({ ...session, role: "operator" })).toBe(true);
    expect(canWrite({ ...session, role: "admin" })).toBe(true);
  });
});

describe("safeNext", () => {
  it("follows only same-site paths", () => {
    expect(safeNext("/jobs/abc?x=1")).toBe("/jobs/abc?x=1");
    expect(safeNext("//evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("/login")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
});
