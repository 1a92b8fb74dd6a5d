import { describe, expect, it } from "vitest";

import { ApiError } from "../../services/api/client";
import { csvField, csvProblems, existingIds, tokensCsv } from "./tokensCsv";

describe("the tokens CSV", () => {
  it("quotes only the fields that need it", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
  });

  it("has a header and one row a device", () => {
    const text = tokensCsv([
      { device_id: "p-1", name: "Pump, north", attributes: {}, provision_token: "tok-1" },
      { device_id: "p-2", name: "", attributes: { site: "x" }, provision_token: "tok-2" },
    ]);
    expect(text).toBe('device_id,name,provision_token\r\np-1,"Pump, north",tok-1\r\np-2,,tok-2\r\n');
  });
});

describe("a refused file's problems", () => {
  it("reads the lines of an invalid_csv answer, and the ids a 409 names", () => {
    const problems = [{ line: 3, column: "device_id", message: "'bad id' is not a device id" }];
    expect(csvProblems(new ApiError(400, "invalid_csv", "line 3: ...", { errors: problems }))).toEqual(problems);
    expect(csvProblems(new ApiError(400, "bad_request", "other", { errors: problems }))).toEqual([]);
    expect(csvProblems(new Error("x"))).toEqual([]);
    expect(existingIds(new ApiError(409, "conflict", "exist", { existing_device_ids: ["a", "b"] }))).toEqual(["a", "b"]);
    expect(existingIds(new ApiError(400, "bad_request", "x"))).toEqual([]);
  });
});
