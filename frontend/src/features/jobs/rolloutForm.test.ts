import { describe, expect, it } from "vitest";

import {
  buildRolloutConfigs,
  checkCron,
  emptyRolloutForm,
  filledSections,
  incompleteSections,
  parseUtc,
  summarize,
  type RolloutFormState,
} from "./rolloutForm";

const NOW = new Date("2026-12-01T12:00:00Z");
const form = (over: Partial<RolloutFormState> = {}): RolloutFormState => ({ ...emptyRolloutForm(), ...over });
const build = (over: Partial<RolloutFormState>) => buildRolloutConfigs(form(over), NOW);

describe("buildRolloutConfigs", () => {
  it("sends nothing when no section is filled", () => {
    expect(buildRolloutConfigs(form(), NOW)).toEqual({ configs: {}, errors: {}, missing: {}, ok: true });
    expect(filledSections(form())).toEqual({ rollout: false, abort: false, retry: false, schedule: false });
  });

  it("builds a constant rate", () => {
    expect(build({ maximumPerMinute: " 30 " })).toEqual({
      configs: { rollout_config: { maximum_per_minute: 30 } },
      errors: {},
      missing: {},
      ok: true,
    });
  });

  it.each(["0", "1000001", "2.5", "x", "-3"])("rejects the rate %s", (rate) => {
    const r = build({ maximumPerMinute: rate });
    expect(r.ok).toBe(false);
    expect(r.errors.maximumPerMinute).toBe("a whole number, 1 to 1,000,000");
    expect(r.configs).toEqual({});
  });

  it("builds an exponential rate with either criterion, the maximum optional", () => {
    const r = build({ exponential: true, baseRate: "10", factor: "1.5", increaseAfter: "succeeded", increaseEvery: "50" });
    expect(r.ok).toBe(true);
    expect(r.configs.rollout_config).toEqual({
      exponential_rate: { base_rate_per_minute: 10, increment_factor: 1.5, rate_increase_criteria: { number_of_succeeded_things: 50 } },
    });
    const capped = build({ maximumPerMinute: "100", exponential: true, baseRate: "10", factor: "2", increaseEvery: "20" });
    expect(capped.configs.rollout_config).toEqual({
      maximum_per_minute: 100,
      exponential_rate: { base_rate_per_minute: 10, increment_factor: 2, rate_increase_criteria: { number_of_notified_things: 20 } },
    });
  });

  it("checks the exponential rate's limits and marks empty fields missing", () => {
    const r = build({ maximumPerMinute: "5", exponential: true, baseRate: "10", factor: "5.5" });
    expect(r.errors).toEqual({ baseRate: "at most the maximum per minute", factor: "a factor 1.1 to 5" });
    expect(r.missing).toEqual({ increaseEvery: "required" });
    expect(build({ exponential: true, factor: "1.09" }).errors.factor).toBe("a factor 1.1 to 5");
    expect(build({ exponential: true }).missing).toEqual({ baseRate: "required", factor: "required", increaseEvery: "required" });
  });

  it("builds abort criteria with action CANCEL, one per failure type", () => {
    const r = build({
      abort: [
        { failureType: "FAILED", threshold: "20", minExecuted: "5" },
        { failureType: "TIMED_OUT", threshold: "12.5", minExecuted: "100" },
      ],
    });
    expect(r.configs.abort_config).toEqual({
      criteria_list: [
        { failure_type: "FAILED", action: "CANCEL", threshold_percentage: 20, min_number_of_executed_things: 5 },
        { failure_type: "TIMED_OUT", action: "CANCEL", threshold_percentage: 12.5, min_number_of_executed_things: 100 },
      ],
    });
    const dup = build({
      abort: [
        { failureType: "ALL", threshold: "101", minExecuted: "0" },
        { failureType: "ALL", threshold: "", minExecuted: "3" },
      ],
    });
    expect(dup.errors).toEqual({
      "abort.0.threshold": "a percentage 0 to 100",
      "abort.0.minExecuted": "a whole number, 1 to 1,000,000",
      "abort.1.failureType": "one criterion per failure type",
    });
    expect(dup.missing).toEqual({ "abort.1.threshold": "required" });
    expect(dup.configs.abort_config).toBeUndefined();
  });

  it("builds retries from 0 to 10, one per failure type", () => {
    const r = build({ retry: [{ failureType: "FAILED", retries: "2" }, { failureType: "TIMED_OUT", retries: "0" }] });
    expect(r.configs.retry_config).toEqual({
      criteria_list: [
        { failure_type: "FAILED", number_of_retries: 2 },
        { failure_type: "TIMED_OUT", number_of_retries: 0 },
      ],
    });
    const bad = build({ retry: [{ failureType: "ALL", retries: "11" }, { failureType: "ALL", retries: "1" }] });
    expect(bad.errors).toEqual({ "retry.0.retries": "a whole number, 0 to 10", "retry.1.failureType": "one entry per failure type" });
  });

  it("builds a schedule in UTC with windows", () => {
    const r = build({
      startTime: "2027-01-01 02:00",
      endTime: "2027-01-01T06:00Z",
      endBehavior: "CANCEL",
      windows: [
        { cron: "0 2 * * *", minutes: "240" },
        { cron: "cron(0 3 ? * 1 *)", minutes: "60" },
      ],
    });
    expect(r.ok).toBe(true);
    expect(r.configs.scheduling_config).toEqual({
      start_time: "2027-01-01T02:00:00Z",
      end_time: "2027-01-01T06:00:00Z",
      end_behavior: "CANCEL",
      maintenance_windows: [
        { start_time: "0 2 * * *", duration_in_minutes: 240 },
        { start_time: "cron(0 3 ? * 1 *)", duration_in_minutes: 60 },
      ],
    });
  });

  it("checks the schedule as the API does", () => {
    expect(build({ startTime: "2027-01-01 06:00", endTime: "2027-01-01 06:00" }).errors).toEqual({ endTime: "must be after the start time" });
    expect(build({ endTime: "2026-12-01 11:59" }).errors).toEqual({ endTime: "must be in the future" });
    expect(build({ endBehavior: "FORCE_CANCEL" }).errors).toEqual({ endBehavior: "needs an end time" });
    expect(build({ startTime: "tomorrow" }).errors).toEqual({ startTime: "a UTC time like 2027-01-01 02:00" });
    const w = build({ windows: [{ cron: "0 2 * *", minutes: "1441" }, { cron: "", minutes: "" }] });
    expect(w.errors).toEqual({
      "windows.0.cron": "5 fields (minute hour day month weekday), or cron(m h d M w *)",
      "windows.0.minutes": "a whole number, 1 to 1,440",
    });
    expect(w.missing).toEqual({ "windows.1.cron": "required", "windows.1.minutes": "required" });
    expect(w.configs).toEqual({});
  });

  it("keeps the valid sections when another one is wrong", () => {
    const r = build({ maximumPerMinute: "30", retry: [{ failureType: "FAILED", retries: "x" }] });
    expect(r.ok).toBe(false);
    expect(r.configs).toEqual({ rollout_config: { maximum_per_minute: 30 } });
  });
});

describe("parseUtc and checkCron", () => {
  it("reads UTC times and refuses impossible ones", () => {
    expect(parseUtc("2027-01-01 02:00")).toEqual({ value: "2027-01-01T02:00:00Z" });
    expect(parseUtc("2027-01-01T02:00:30 UTC")).toEqual({ value: "2027-01-01T02:00:30Z" });
    expect(parseUtc("2027-02-30 02:00")).toEqual({ error: "not a real date and time" });
    expect(parseUtc("2027-01-01 24:00")).toEqual({ error: "not a real date and time" });
    expect(parseUtc("")).toEqual({ empty: true });
  });

  it("counts cron fields", () => {
    expect(checkCron("*/15 2-4 * * 1-5")).toBeUndefined();
    expect(checkCron("cron(0 2 ? * MON-FRI *)")).toBeUndefined();
    expect(checkCron("cron(0 2 ? * MON-FRI 2027)")).toBe("the year field must be *");
    expect(checkCron("cron(0 2 * *)")).toMatch(/6 fields/);
    expect(checkCron("0 2 * * * *")).toMatch(/5 fields/);
  });
});

describe("summarize", () => {
  it("says the issue's example in plain words", () => {
    const r = build({
      maximumPerMinute: "30",
      abort: [{ failureType: "FAILED", threshold: "20", minExecuted: "5" }],
      retry: [{ failureType: "FAILED", retries: "2" }],
      startTime: "2027-01-01 02:00",
      endTime: "2027-01-01 06:00",
    });
    expect(summarize(r.configs)).toBe(
      "Reaches 30 devices a minute; stops if 20 % of at least 5 devices fail; retries failures twice; " +
        "starts 2027-01-01 02:00 UTC, stops the rollout at 06:00.",
    );
  });

  it("describes exponential rates, several criteria, windows and other end behaviors", () => {
    const r = build({
      maximumPerMinute: "1000",
      exponential: true,
      baseRate: "10",
      factor: "1.5",
      increaseEvery: "50",
      abort: [
        { failureType: "TIMED_OUT", threshold: "10", minExecuted: "100" },
        { failureType: "ALL", threshold: "50", minExecuted: "1000" },
      ],
      retry: [
        { failureType: "TIMED_OUT", retries: "1" },
        { failureType: "FAILED", retries: "0" },
      ],
      endTime: "2027-01-02 06:00",
      endBehavior: "FORCE_CANCEL",
      windows: [{ cron: "0 2 * * *", minutes: "240" }],
    });
    expect(summarize(r.configs)).toBe(
      "Reaches 10 devices a minute at first, ×1.5 each time 50 more devices reached, up to 1,000 a minute; " +
        "stops if 10 % of at least 100 devices time out or 50 % of at least 1,000 devices fail, reject it or time out; " +
        "retries timeouts once, does not retry failures; " +
        "force-cancels the job at 2027-01-02 06:00 UTC, reaches new devices only in its maintenance windows (0 2 * * * for 240 min, UTC).",
    );
  });

  it("names the sections still to complete instead of guessing their meaning", () => {
    const state = form({ maximumPerMinute: "0", abort: [{ failureType: "FAILED", threshold: "20", minExecuted: "5" }], windows: [{ cron: "", minutes: "" }] });
    const r = buildRolloutConfigs(state, NOW);
    expect(incompleteSections(state, r.configs)).toEqual(["rollout", "schedule"]);
    expect(summarize(r.configs, incompleteSections(state, r.configs))).toBe(
      "Stops if 20 % of at least 5 devices fail. Still to complete: rollout, schedule.",
    );
  });

  it("says a job without configs reaches every device at once", () => {
    expect(summarize({})).toBe("Reaches every device at once.");
    expect(summarize(build({ retry: [{ failureType: "ALL", retries: "3" }] }).configs)).toBe(
      "Reaches every device at once; retries failures and timeouts 3 times.",
    );
  });
});
