import { describe, expect, it } from "vitest";

import { jobProgress } from "./progress";

const counts = (over: Partial<Record<string, number>> = {}) => ({
  queued: 0,
  in_progress: 0,
  succeeded: 0,
  failed: 0,
  timed_out: 0,
  rejected: 0,
  canceled: 0,
  removed: 0,
  ...over,
});

describe("jobProgress", () => {
  it("is empty and 0% for a job without executions", () => {
    expect(jobProgress(counts())).toEqual({ total: 0, done: 0, donePercent: 0, segments: [] });
  });

  it("stacks finished outcomes before open work and counts only terminal ones as done", () => {
    const p = jobProgress(counts({ queued: 2, in_progress: 1, succeeded: 5, failed: 2 }));
    expect(p.total).toBe(10);
    expect(p.done).toBe(7);
    expect(p.donePercent).toBe(70);
    expect(p.segments.map((s) => [s.key, s.count, s.percent])).toEqual([
      ["succeeded", 5, 50],
      ["failed", 2, 20],
      ["in_progress", 1, 10],
      ["queued", 2, 20],
    ]);
  });

  it("rounds segments so they always fill exactly 100%", () => {
    const p = jobProgress(counts({ succeeded: 1, failed: 1, queued: 1 }));
    expect(p.segments.reduce((a, s) => a + s.percent, 0)).toBe(100);
    expect(p.segments.map((s) => s.percent).sort()).toEqual([33, 33, 34]);
    const q = jobProgress(counts({ succeeded: 1, queued: 6 }));
    expect(q.segments.reduce((a, s) => a + s.percent, 0)).toBe(100);
  });

  it("never reports 100% while an execution is open, and 100% once all are terminal", () => {
    expect(jobProgress(counts({ succeeded: 999, queued: 1 })).donePercent).toBe(99);
    expect(jobProgress(counts({ succeeded: 1, rejected: 2, timed_out: 1 })).donePercent).toBe(100);
  });

  it("shows a canceled job's rejected executions as their own segment", () => {
    const p = jobProgress(counts({ rejected: 2 }));
    expect(p.segments).toEqual([{ key: "rejected", label: "Rejected", color: "grape", count: 2, percent: 100 }]);
  });
});
