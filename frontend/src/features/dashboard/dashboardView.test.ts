import { describe, expect, it } from "vitest";

import { deviceSlices, jobBars, percent, reasonLabel } from "./dashboardView";

describe("dashboardView", () => {
  it("splits the fleet into online, offline and revoked", () => {
    const slices = deviceSlices({ total: 10, active: 8, revoked: 2, online: 5, offline: 3, online_window_seconds: 300 });
    expect(slices.map((s) => [s.key, s.value])).toEqual([
      ["online", 5],
      ["offline", 3],
      ["revoked", 2],
    ]);
  });

  it("orders jobs by status as a job goes, with 0 for a missing status", () => {
    expect(jobBars({ COMPLETED: 4, IN_PROGRESS: 1 })).toEqual([
      { status: "SCHEDULED", label: "Scheduled", jobs: 0 },
      { status: "IN_PROGRESS", label: "In progress", jobs: 1 },
      { status: "COMPLETED", label: "Completed", jobs: 4 },
      { status: "CANCELED", label: "Canceled", jobs: 0 },
    ]);
  });

  it("names a failure by its status and the reason the device gave", () => {
    expect(reasonLabel({ status: "TIMED_OUT", reason: null, failures: 2 })).toBe("timed out");
    expect(reasonLabel({ status: "FAILED", reason: "disk full", failures: 1 })).toBe("failed: disk full");
  });

  it("rounds a share to a whole percent, 0 of nothing", () => {
    expect(percent(1, 3)).toBe(33);
    expect(percent(2, 3)).toBe(67);
    expect(percent(0, 0)).toBe(0);
  });
});
