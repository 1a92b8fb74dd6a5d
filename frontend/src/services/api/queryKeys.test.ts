import { partialMatchKey, type QueryKey } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { queryKeys } from "./queryKeys";

const { devices, groups, jobs } = queryKeys;
/** Whether invalidating `filter` reaches the query cached under `key` (TanStack's own prefix match). */
const reaches = (filter: QueryKey, key: QueryKey) => partialMatchKey(key, filter);

describe("queryKeys", () => {
  it("lets a list's invalidation reach every filter and page of it, and nothing else", () => {
    expect(reaches(devices.lists(), devices.list({ q: "x", status: "ACTIVE", limit: 25, offset: 50 }))).toBe(true);
    expect(reaches(devices.lists(), groups.lists())).toBe(false);
    expect(reaches(groups.lists(), groups.list({ limit: 50 }))).toBe(true);
    expect(reaches(groups.lists(), groups.detail("lab"))).toBe(false);
    expect(reaches(jobs.lists(), jobs.list({ status: "IN_PROGRESS", offset: 25 }))).toBe(true);
    expect(reaches(jobs.lists(), jobs.detail("j1"))).toBe(false);
  });

  it("keeps one job's executions apart from another's", () => {
    expect(reaches(jobs.executions("j1"), jobs.executionPage("j1", { status: "FAILED", offset: 50 }))).toBe(true);
    expect(reaches(jobs.executions("j1"), jobs.executionPage("j10", {}))).toBe(false);
    expect(reaches(jobs.detail("j1"), jobs.detail("j10"))).toBe(false);
  });

  it("names every view of a job among the keys a change to it invalidates", () => {
    const shown: QueryKey[] = [
      jobs.detail("j1"),
      jobs.list({ limit: 25, offset: 0 }),
      jobs.executionPage("j1", { limit: 50, offset: 0 }),
      jobs.executionEvents("j1", "dev-1"),
      jobs.ofDevice("dev-1", { limit: 20, offset: 0 }),
    ];
    for (const key of shown) expect(jobs.views("j1").some((filter) => reaches(filter, key)), JSON.stringify(key)).toBe(true);
    const other: QueryKey[] = [jobs.detail("j2"), jobs.executionPage("j2", {}), jobs.executionEvents("j2", "dev-1"), devices.list({})];
    for (const key of other) expect(jobs.views("j1").some((filter) => reaches(filter, key)), JSON.stringify(key)).toBe(false);
  });
});
