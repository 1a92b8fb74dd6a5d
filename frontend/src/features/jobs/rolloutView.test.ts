import { describe, expect, it } from "vitest";

import { summarize } from "./rolloutForm";
import { jobConfigs, stepChart } from "./rolloutView";

describe("stepChart", () => {
  it("draws releases as steps from 0, time left to right", () => {
    const chart = stepChart(
      [
        { at: "2027-01-01T02:00:00Z", reached: 30 },
        { at: "2027-01-01T02:02:00Z", reached: 90 },
        { at: "2027-01-01T02:01:00Z", reached: 60 },
      ],
      120,
      200,
      100,
    );
    expect(chart).toEqual({
      path: "M0 100 V75 H100 V50 H200 V25",
      from: "2027-01-01T02:00:00Z",
      to: "2027-01-01T02:02:00Z",
      max: 120,
    });
  });

  it("draws one release as a flat step and nothing without history", () => {
    expect(stepChart([{ at: "2027-01-01T02:00:00Z", reached: 5 }], 10, 200, 100)?.path).toBe("M0 100 V50 H200");
    expect(stepChart([], 10, 200, 100)).toBeNull();
  });
});

describe("jobConfigs", () => {
  it("reads the stored configs back, as the plan in words", () => {
    const configs = jobConfigs({
      rollout_config: { maximum_per_minute: 30 },
      abort_config: { criteria_list: [{ failure_type: "FAILED", action: "CANCEL", threshold_percentage: 20, min_number_of_executed_things: 5 }] },
      retry_config: { criteria_list: [{ failure_type: "FAILED", number_of_retries: 2 }] },
      scheduling_config: { start_time: "2027-01-01T02:00:00Z", end_time: "2027-01-01T06:00:00Z", end_behavior: null },
    });
    expect(summarize(configs)).toBe(
      "Reaches 30 devices a minute; stops if 20 % of at least 5 devices fail; retries failures twice; " +
        "starts 2027-01-01 02:00 UTC, stops the rollout at 06:00.",
    );
    expect(jobConfigs({ rollout_config: null, abort_config: { oops: 1 }, retry_config: null, scheduling_config: null })).toEqual({});
  });
});
