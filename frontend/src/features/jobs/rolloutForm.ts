// The Create Job form's safe-rollout sections (rollout rate, abort criteria, retries, schedule): their state,
// the checks the operator API makes (services/shared/jobs/configs.py), the request fields built only from
// the sections filled in, and the plan in plain words.

import type { Schemas } from "../../services/api/types";

export type RolloutConfig = Schemas["RolloutConfig"];
export type AbortConfig = Schemas["AbortConfig"];
export type RetryConfig = Schemas["RetryConfig"];
export type SchedulingConfig = Schemas["SchedulingConfig"];
export type AbortFailureType = Schemas["AbortCriterion"]["failure_type"];
export type RetryFailureType = Schemas["RetryCriterion"]["failure_type"];
export type EndBehavior = NonNullable<SchedulingConfig["end_behavior"]>;
export type IncreaseAfter = "notified" | "succeeded";

export const MAX_RATE = 1_000_000;
export const MIN_FACTOR = 1.1;
export const MAX_FACTOR = 5;
export const MAX_RETRIES = 10;
export const MAX_WINDOW_MINUTES = 1440;
export const MAX_WINDOWS = 16;
export const ABORT_TYPES: readonly AbortFailureType[] = ["FAILED", "REJECTED", "TIMED_OUT", "ALL"];
export const RETRY_TYPES: readonly RetryFailureType[] = ["FAILED", "TIMED_OUT", "ALL"];
export const END_BEHAVIORS: readonly EndBehavior[] = ["STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL"];

export interface AbortRow {
  failureType: AbortFailureType;
  threshold: string; // percent, 0 to 100
  minExecuted: string;
}

export interface RetryRow {
  failureType: RetryFailureType;
  retries: string;
}

export interface WindowRow {
  cron: string;
  minutes: string;
}

/** Every field as typed (text); an empty section sends nothing. */
export interface RolloutFormState {
  maximumPerMinute: string;
  exponential: boolean;
  baseRate: string;
  factor: string;
  increaseAfter: IncreaseAfter;
  increaseEvery: string;
  abort: AbortRow[];
  retry: RetryRow[];
  startTime: string; // UTC, "2027-01-01 02:00"
  endTime: string;
  endBehavior: EndBehavior | "";
  windows: WindowRow[];
}

export function emptyRolloutForm(): RolloutFormState {
  return {
    maximumPerMinute: "",
    exponential: false,
    baseRate: "",
    factor: "",
    increaseAfter: "notified",
    increaseEvery: "",
    abort: [],
    retry: [],
    startTime: "",
    endTime: "",
    endBehavior: "",
    windows: [],
  };
}

export type Section = "rollout" | "abort" | "retry" | "schedule";

/** Which sections hold anything: only those are sent. */
export function filledSections(s: RolloutFormState): Record<Section, boolean> {
  return {
    rollout: s.maximumPerMinute.trim() !== "" || s.exponential,
    abort: s.abort.length > 0,
    retry: s.retry.length > 0,
    schedule: s.startTime.trim() !== "" || s.endTime.trim() !== "" || s.endBehavior !== "" || s.windows.length > 0,
  };
}

/** Field keys: "maximumPerMinute", "abort.0.threshold", "windows.1.cron", ... */
export type RolloutErrors = Record<string, string>;

export interface RolloutConfigs {
  rollout_config?: RolloutConfig;
  abort_config?: AbortConfig;
  retry_config?: RetryConfig;
  scheduling_config?: SchedulingConfig;
}

export interface RolloutFormResult {
  /** The configs of the filled sections that are valid (what the summary describes). */
  configs: RolloutConfigs;
  /** Values typed but wrong: shown as you type. */
  errors: RolloutErrors;
  /** Required values left empty: shown once the operator tries to create the job. */
  missing: RolloutErrors;
  ok: boolean;
}

// --- numbers and times ---------------------------------------------------------------------------------

type Parsed<T> = { value: T } | { empty: true } | { error: string };

function wholeNumber(text: string, min: number, max: number): Parsed<number> {
  const t = text.trim().replaceAll(",", "").replaceAll("_", "");
  if (!t) return { empty: true };
  const n = Number(t);
  if (!/^-?\d+$/.test(t) || n < min || n > max) return { error: `a whole number, ${min.toLocaleString("en")} to ${max.toLocaleString("en")}` };
  return { value: n };
}

function decimal(text: string, min: number, max: number, what: string): Parsed<number> {
  const t = text.trim();
  if (!t) return { empty: true };
  const n = Number(t);
  if (!/^-?\d+(\.\d+)?$/.test(t) || n < min || n > max) return { error: `${what} ${min} to ${max}` };
  return { value: n };
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?\s*(?:Z|UTC)?$/i;

/** A UTC time typed as "2027-01-01 02:00" (or ISO with T, seconds, Z) as an ISO string. */
export function parseUtc(text: string): Parsed<string> {
  const t = text.trim();
  if (!t) return { empty: true };
  const m = TIME.exec(t);
  if (!m) return { error: "a UTC time like 2027-01-01 02:00" };
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return { error: "not a real date and time" };
  }
  return { value: back.toISOString().replace(".000Z", "Z") };
}

/** A maintenance window's start: 5 cron fields, or AWS's cron(minute hour day month weekday year) with year *.
 * Only the shape is checked here; the API checks each field and answers 422 with the reason. */
export function checkCron(text: string): string | undefined {
  const t = text.trim();
  const aws = /^cron\((.*)\)$/.exec(t);
  if (aws) {
    const fields = (aws[1] ?? "").trim().split(/\s+/).filter(Boolean);
    if (fields.length !== 6) return "cron(...) has 6 fields: minute hour day month weekday year";
    if (fields[5] !== "*") return "the year field must be *";
    return undefined;
  }
  if (t.split(/\s+/).filter(Boolean).length !== 5) return "5 fields (minute hour day month weekday), or cron(m h d M w *)";
  return undefined;
}

// --- the sections ----------------------------------------------------------------------------------------

/** Validates the filled sections and builds their configs, as the API names them. */
export function buildRolloutConfigs(s: RolloutFormState, now: Date = new Date()): RolloutFormResult {
  const errors: RolloutErrors = {};
  const missing: RolloutErrors = {};
  const configs: RolloutConfigs = {};
  const filled = filledSections(s);

  /** The number, or undefined with the reason recorded under `key`. */
  const take = (key: string, parsed: Parsed<number>, required: boolean): number | undefined => {
    if ("value" in parsed) return parsed.value;
    if ("error" in parsed) errors[key] = parsed.error;
    else if (required) missing[key] = "required";
    return undefined;
  };
  const count = (key: string) => Object.keys(errors).filter((k) => k.startsWith(key)).length + Object.keys(missing).filter((k) => k.startsWith(key)).length;

  if (filled.rollout) {
    const max = take("maximumPerMinute", wholeNumber(s.maximumPerMinute, 1, MAX_RATE), !s.exponential);
    const config: RolloutConfig = {};
    if (max !== undefined) config.maximum_per_minute = max;
    if (s.exponential) {
      const base = take("baseRate", wholeNumber(s.baseRate, 1, MAX_RATE), true);
      const factor = take("factor", decimal(s.factor, MIN_FACTOR, MAX_FACTOR, "a factor"), true);
      const every = take("increaseEvery", wholeNumber(s.increaseEvery, 1, MAX_RATE), true);
      if (base !== undefined && max !== undefined && base > max) errors.baseRate = "at most the maximum per minute";
      if (base !== undefined && factor !== undefined && every !== undefined) {
        config.exponential_rate = {
          base_rate_per_minute: base,
          increment_factor: factor,
          rate_increase_criteria:
            s.increaseAfter === "notified" ? { number_of_notified_things: every } : { number_of_succeeded_things: every },
        };
      }
    }
    if (count("maximumPerMinute") + count("baseRate") + count("factor") + count("increaseEvery") === 0) {
      configs.rollout_config = config;
    }
  }

  if (filled.abort) {
    const seen = new Set<string>();
    const criteria = s.abort.map((row, i) => {
      if (seen.has(row.failureType)) errors[`abort.${i}.failureType`] = "one criterion per failure type";
      seen.add(row.failureType);
      const threshold = take(`abort.${i}.threshold`, decimal(row.threshold, 0, 100, "a percentage"), true);
      const min = take(`abort.${i}.minExecuted`, wholeNumber(row.minExecuted, 1, MAX_RATE), true);
      return { failure_type: row.failureType, action: "CANCEL" as const, threshold_percentage: threshold ?? 0, min_number_of_executed_things: min ?? 1 };
    });
    if (count("abort.") === 0) configs.abort_config = { criteria_list: criteria };
  }

  if (filled.retry) {
    const seen = new Set<string>();
    const criteria = s.retry.map((row, i) => {
      if (seen.has(row.failureType)) errors[`retry.${i}.failureType`] = "one entry per failure type";
      seen.add(row.failureType);
      const retries = take(`retry.${i}.retries`, wholeNumber(row.retries, 0, MAX_RETRIES), true);
      return { failure_type: row.failureType, number_of_retries: retries ?? 0 };
    });
    if (count("retry.") === 0) configs.retry_config = { criteria_list: criteria };
  }

  if (filled.schedule) {
    const config: SchedulingConfig = { maintenance_windows: [] };
    const start = parseUtc(s.startTime);
    const end = parseUtc(s.endTime);
    if ("error" in start) errors.startTime = start.error;
    if ("error" in end) errors.endTime = end.error;
    if ("value" in start) config.start_time = start.value;
    if ("value" in end) {
      if ("value" in start && Date.parse(end.value) <= Date.parse(start.value)) errors.endTime = "must be after the start time";
      else if (Date.parse(end.value) <= now.getTime()) errors.endTime = "must be in the future";
      else config.end_time = end.value;
    }
    if (s.endBehavior) {
      if ("empty" in end) errors.endBehavior = "needs an end time";
      config.end_behavior = s.endBehavior;
    }
    s.windows.forEach((w, i) => {
      const cron = w.cron.trim();
      if (!cron) missing[`windows.${i}.cron`] = "required";
      else {
        const bad = checkCron(cron);
        if (bad) errors[`windows.${i}.cron`] = bad;
      }
      const minutes = take(`windows.${i}.minutes`, wholeNumber(w.minutes, 1, MAX_WINDOW_MINUTES), true);
      config.maintenance_windows.push({ start_time: cron, duration_in_minutes: minutes ?? 1 });
    });
    if (s.windows.length > MAX_WINDOWS) errors.windows = `at most ${MAX_WINDOWS} windows`;
    if (count("startTime") + count("endTime") + count("endBehavior") + count("windows") === 0) {
      configs.scheduling_config = config;
    }
  }

  const ok = Object.keys(errors).length === 0 && Object.keys(missing).length === 0;
  return { configs, errors, missing, ok };
}

// --- in plain words --------------------------------------------------------------------------------------

const FAIL_WORDS: Record<AbortFailureType, string> = {
  FAILED: "fail",
  REJECTED: "reject it",
  TIMED_OUT: "time out",
  ALL: "fail, reject it or time out",
};

const RETRY_WORDS: Record<RetryFailureType, string> = {
  FAILED: "failures",
  TIMED_OUT: "timeouts",
  ALL: "failures and timeouts",
};

export const END_WORDS: Record<EndBehavior, string> = {
  STOP_ROLLOUT: "stops the rollout",
  CANCEL: "cancels the job",
  FORCE_CANCEL: "force-cancels the job",
};

const n = (x: number) => x.toLocaleString("en");

function times(k: number): string {
  if (k === 1) return "once";
  if (k === 2) return "twice";
  return `${k} times`;
}

/** "2027-01-01 02:00 UTC" */
export function utcText(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function rolloutWords(c: RolloutConfig): string {
  const max = c.maximum_per_minute;
  const exp = c.exponential_rate;
  if (!exp) return `reaches ${n(max ?? MAX_RATE)} device${max === 1 ? "" : "s"} a minute`;
  const crit = exp.rate_increase_criteria;
  const step = crit.number_of_notified_things
    ? `${n(crit.number_of_notified_things)} more devices reached`
    : `${n(crit.number_of_succeeded_things ?? 0)} more devices succeeded`;
  return (
    `reaches ${n(exp.base_rate_per_minute)} device${exp.base_rate_per_minute === 1 ? "" : "s"} a minute at first, ` +
    `×${exp.increment_factor} each time ${step}, up to ${n(max ?? MAX_RATE)} a minute`
  );
}

export function abortWords(c: AbortConfig): string {
  return (
    "stops if " +
    c.criteria_list
      .map((k) => `${k.threshold_percentage} % of at least ${n(k.min_number_of_executed_things)} devices ${FAIL_WORDS[k.failure_type]}`)
      .join(" or ")
  );
}

export function retryWords(c: RetryConfig): string {
  const retried = c.criteria_list.filter((k) => k.number_of_retries > 0);
  const never = c.criteria_list.filter((k) => k.number_of_retries === 0);
  const parts: string[] = [];
  if (retried.length) parts.push(`retries ${retried.map((k) => `${RETRY_WORDS[k.failure_type]} ${times(k.number_of_retries)}`).join(" and ")}`);
  if (never.length) parts.push(`does not retry ${never.map((k) => RETRY_WORDS[k.failure_type]).join(" or ")}`);
  return parts.join(", ");
}

export function scheduleWords(c: SchedulingConfig): string {
  const parts: string[] = [];
  if (c.start_time) parts.push(`starts ${utcText(c.start_time)}`);
  if (c.end_time) {
    const sameDay = !!c.start_time && utcText(c.start_time).slice(0, 10) === utcText(c.end_time).slice(0, 10);
    const at = sameDay ? utcText(c.end_time).slice(11, 16) : utcText(c.end_time);
    parts.push(`${END_WORDS[c.end_behavior ?? "STOP_ROLLOUT"]} at ${at}`);
  }
  if (c.maintenance_windows.length) {
    const windows = c.maintenance_windows.map((w) => `${w.start_time} for ${n(w.duration_in_minutes)} min`).join(", ");
    parts.push(`reaches new devices only in its maintenance windows (${windows}, UTC)`);
  }
  return parts.join(", ");
}

const SECTION_NAMES: Record<Section, string> = { rollout: "rollout", abort: "abort", retry: "retries", schedule: "schedule" };

/** The whole plan, e.g. "Reaches 30 devices a minute; stops if 20 % of at least 5 devices fail; retries
 * failures twice; starts 2027-01-01 02:00 UTC, stops the rollout at 06:00." Sections filled in but not valid
 * yet are named as still to complete. */
export function summarize(c: RolloutConfigs, incomplete: readonly Section[] = []): string {
  const parts = [
    c.rollout_config ? rolloutWords(c.rollout_config) : !incomplete.includes("rollout") && "reaches every device at once",
    c.abort_config && abortWords(c.abort_config),
    c.retry_config && retryWords(c.retry_config),
    c.scheduling_config && scheduleWords(c.scheduling_config),
  ].filter((p): p is string => !!p);
  const text = parts.join("; ");
  const plan = text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}.` : "";
  const todo = incomplete.length ? `Still to complete: ${incomplete.map((x) => SECTION_NAMES[x]).join(", ")}.` : "";
  return [plan, todo].filter(Boolean).join(" ");
}

/** The filled sections whose config is not valid yet. */
export function incompleteSections(s: RolloutFormState, c: RolloutConfigs): Section[] {
  const filled = filledSections(s);
  const built: Record<Section, unknown> = {
    rollout: c.rollout_config,
    abort: c.abort_config,
    retry: c.retry_config,
    schedule: c.scheduling_config,
  };
  return (Object.keys(filled) as Section[]).filter((k) => filled[k] && !built[k]);
}
