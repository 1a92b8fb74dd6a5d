import { QueryClient } from "@tanstack/react-query";

import { affects, invalidateFor, parseLiveEvent, type LiveEvent } from "./events";

const job = (id: string) => ["get", "/customer/jobs/{job_id}", { params: { path: { job_id: id } } }] as const;
const jobExecutions = (id: string) =>
  ["get", "/customer/jobs/{job_id}/executions", { params: { path: { job_id: id }, query: { limit: 50 } } }] as const;
const device = (id: string) => ["get", "/customer/devices/{device_id}", { params: { path: { device_id: id } } }] as const;
const deviceJobs = (id: string) => ["get", "/customer/devices/{device_id}/jobs", { params: { path: { device_id: id } } }] as const;
const group = (id: string) => ["get", "/customer/groups/{group_id}", { params: { path: { group_id: id } } }] as const;
const jobsList = ["get", "/customer/jobs", { params: { query: { status: "IN_PROGRESS" } } }] as const;

const jobsOf = (...ids: string[]): LiveEvent => ({ kind: "jobs", ids });
const anyOf = (kind: LiveEvent["kind"]): LiveEvent => ({ kind, ids: null });

describe("parseLiveEvent", () => {
  it("reads the kinds, their ids or none, resync, and ignores the rest", () => {
    expect(parseLiveEvent("jobs", '{"ids": ["a", "b"]}')).toEqual({ kind: "jobs", ids: ["a", "b"] });
    expect(parseLiveEvent("devices", '{"ids": null}')).toEqual({ kind: "devices", ids: null });
    expect(parseLiveEvent("groups", "not json")).toEqual({ kind: "groups", ids: null }); // any: safe side
    expect(parseLiveEvent("resync", "{}")).toBe("resync");
    expect(parseLiveEvent("ready", "{}")).toBeNull();
    expect(parseLiveEvent("users", "{}")).toBeNull();
  });
});

describe("affects: openapi-react-query keys, by path", () => {
  it("a job's change: its views, every jobs list, the devices' job panels; not another job, not devices", () => {
    const e = jobsOf("j1");
    expect(affects(job("j1"), e)).toBe(true);
    expect(affects(jobExecutions("j1"), e)).toBe(true);
    expect(affects(["get", "/customer/jobs/{job_id}/executions/{device_id}/events", { params: { path: { job_id: "j1", device_id: "d" } } }], e)).toBe(true);
    expect(affects(jobsList, e)).toBe(true);
    expect(affects(deviceJobs("d1"), e)).toBe(true);
    expect(affects(job("j2"), e)).toBe(false);
    expect(affects(jobExecutions("j2"), e)).toBe(false);
    expect(affects(device("d1"), e)).toBe(false);
    expect(affects(["get", "/customer/job-templates", {}], e)).toBe(false);
    expect(affects(job("j2"), anyOf("jobs"))).toBe(true);
  });

  it("a device's change: the device lists and that device's pages, not its job panel", () => {
    const e: LiveEvent = { kind: "devices", ids: ["d1"] };
    expect(affects(["get", "/customer/devices", { params: { query: {} } }], e)).toBe(true);
    expect(affects(device("d1"), e)).toBe(true);
    expect(affects(["get", "/customer/devices/{device_id}/twin", { params: { path: { device_id: "d1" } } }], e)).toBe(true);
    expect(affects(device("d2"), e)).toBe(false);
    expect(affects(deviceJobs("d1"), e)).toBe(false);
    expect(affects(device("d2"), anyOf("devices"))).toBe(true);
    expect(affects(job("j1"), anyOf("devices"))).toBe(false);
  });

  it("a group's change: group lists, that group, and device pages (a device's groups)", () => {
    const e: LiveEvent = { kind: "groups", ids: ["g1"] };
    expect(affects(["get", "/customer/groups", {}], e)).toBe(true);
    expect(affects(group("g1"), e)).toBe(true);
    expect(affects(group("g2"), e)).toBe(false);
    expect(affects(device("d1"), e)).toBe(true);
    expect(affects(job("j1"), e)).toBe(false);
  });
});

describe("invalidateFor", () => {
  it("marks exactly the affected cached queries stale", async () => {
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity } } });
    for (const key of [job("j1"), job("j2"), device("d1")]) {
      client.setQueryData(key, { any: "thing" });
    }
    await invalidateFor(client, jobsOf("j1"));
    const stale = client
      .getQueryCache()
      .getAll()
      .filter((q) => q.isStale())
      .map((q) => JSON.stringify(q.queryKey));
    expect(stale).toEqual([JSON.stringify(job("j1"))]);
  });
});
