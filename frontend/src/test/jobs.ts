// A job as the operator API shows it, for the job page's tests.

import type { Execution, JobDetail } from "../services/api/jobs";

const execution = (device_id: string, status: Execution["status"], retry_attempt: number): Execution => ({
  device_id,
  status,
  status_details: null,
  execution_number: retry_attempt + 1,
  queued_at: "2027-01-01T02:00:00Z",
  started_at: null,
  last_updated_at: "2027-01-01T02:03:00Z",
  retry_attempt,
});

const executions = [execution("dev-1", "FAILED", 2), execution("dev-2", "SUCCEEDED", 0), execution("dev-3", "CANCELED", 1)];

/** A firmware job that reached 90 of 120 devices at 30 a minute, then aborted on failures. */
export const aborted: JobDetail = {
  job_id: "fw-1",
  document_type: "firmware_update",
  document_params: {},
  status: "CANCELED",
  target: { type: "group", id: "lab" },
  target_all: false,
  target_device_id: null,
  target_group_id: "lab",
  target_selection: "SNAPSHOT",
  artifacts: [],
  execution_count: 120,
  counts: { queued: 30, in_progress: 0, succeeded: 40, failed: 20, timed_out: 0, rejected: 0, canceled: 30, removed: 0 },
  progress: 0.75,
  created_at: "2027-01-01T01:00:00Z",
  created_by: "admin@demo.local",
  updated_at: "2027-01-01T02:03:00Z",
  expires_at: null,
  in_progress_timeout_minutes: null,
  completed_at: null,
  canceled_at: "2027-01-01T02:03:00Z",
  cancel_mode: "cancel",
  cancel_reason_code: "ABORTED_FAILED",
  cancel_reason: "aborted: 20 of 60 executed devices FAILED (33.33 %), criterion: at least 20 % of at least 5",
  rollout_config: { maximum_per_minute: 30 },
  abort_config: { criteria_list: [{ failure_type: "FAILED", action: "CANCEL", threshold_percentage: 20, min_number_of_executed_things: 5 }] },
  retry_config: { criteria_list: [{ failure_type: "FAILED", number_of_retries: 2 }] },
  scheduling_config: {
    start_time: "2027-01-01T02:00:00Z",
    end_time: "2027-01-01T06:00:00Z",
    end_behavior: "CANCEL",
    maintenance_windows: [{ start_time: "0 2 * * *", duration_in_minutes: 240 }],
  },
  rollout: {
    reached: 90,
    total: 120,
    rate_per_minute: 30,
    window_opened_at: "2027-01-01T02:02:00Z",
    stopped_at: null,
    history: [
      { at: "2027-01-01T02:00:00Z", reached: 30 },
      { at: "2027-01-01T02:01:00Z", reached: 60 },
      { at: "2027-01-01T02:02:00Z", reached: 90 },
    ],
  },
  abort: {
    aborted: true,
    criterion: { failure_type: "FAILED", action: "CANCEL", threshold_percentage: 20, min_number_of_executed_things: 5 },
    failures: 20,
    executed: 60,
    at: "2027-01-01T02:03:00Z",
  },
  schedule: {
    start_time: "2027-01-01T02:00:00Z",
    end_time: "2027-01-01T06:00:00Z",
    end_behavior: "CANCEL",
    end_applied_at: null,
    in_window: true,
    next_window: { start: "2027-01-01T02:00:00Z", end: "2027-01-01T06:00:00Z" },
  },
  executions,
  executions_limit: 100,
  executions_truncated: true,
};

