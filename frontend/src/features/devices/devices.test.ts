import { describe, expect, it } from "vitest";

import { ONLINE_WINDOW_MS, isOnline } from "../../services/api/devices";
import { mergePatchFrom, parseDesired } from "./twinPatch";

describe("isOnline", () => {
  const now = Date.parse("2024-05-01T12:00:00Z");
  it("derives presence from last_seen_at and the status", () => {
    const seen = (ms: number) => new Date(now - ms).toISOString();
    expect(isOnline({ status: "ACTIVE", last_seen_at: seen(1000) }, now)).toBe(true);
    expect(isOnline({ status: "ACTIVE", last_seen_at: seen(ONLINE_WINDOW_MS + 1) }, now)).toBe(false);
    expect(isOnline({ status: "ACTIVE", last_seen_at: null }, now)).toBe(false);
    expect(isOnline({ status: "REVOKED", last_seen_at: seen(1000) }, now)).toBe(false);
  });
});

describe("twin editor", () => {
  it("turns an edited desired document into a merge patch", () => {
    expect(mergePatchFrom({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: 1, b: { c: 5 }, e: [1, 2], f: "x" })).toEqual({
      b: { c: 5, d: null },
      e: [1, 2],
      f: "x",
    });
    expect(mergePatchFrom({ a: 1 }, {})).toEqual({ a: null });
    expect(mergePatchFrom({ a: { b: 1 } }, { a: { b: 1 } })).toEqual({});
  });

  it("accepts only JSON objects without nulls", () => {
    expect(parseDesired('{"fan": "on"}').value).toEqual({ fan: "on" });
    expect(parseDesired("").value).toEqual({});
    expect(parseDesired("[1]").error).toMatch(/JSON object/);
    expect(parseDesired("{").error).toMatch(/not valid JSON/);
    expect(parseDesired('{"a": null}').error).toMatch(/null/);
  });
});
