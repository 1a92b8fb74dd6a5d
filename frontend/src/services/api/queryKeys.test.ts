import { partialMatchKey, type QueryKey } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { queryKeys } from "./queryKeys";

const { devices, groups } = queryKeys;
/** Whether invalidating `filter` reaches the query cached under `key` (TanStack's own prefix match). */
const reaches = (filter: QueryKey, key: QueryKey) => partialMatchKey(key, filter);

describe("queryKeys", () => {
  it("lets a list's invalidation reach every filter and page of it, and nothing else", () => {
    expect(reaches(devices.lists(), devices.list({ q: "x", status: "ACTIVE", limit: 25, offset: 50 }))).toBe(true);
    expect(reaches(devices.lists(), groups.lists())).toBe(false);
    expect(reaches(groups.lists(), groups.list({ limit: 50 }))).toBe(true);
    expect(reaches(groups.lists(), groups.detail("lab"))).toBe(false);
  });
});
