import { screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";

import type { JobDetail, JobList } from "../../services/api/jobs";
import { aborted } from "../../test/jobs";
import { fakeApi, renderWithProviders } from "../../test/render";
import { JobDetailPage } from "./JobDetailPage";
import { JobsPage } from "./JobsPage";

const scheduled: JobDetail = {
  ...aborted,
  job_id: "later",
  status: "SCHEDULED",
  counts: { ...aborted.counts, queued: 120, succeeded: 0, failed: 0, canceled: 0 },
  canceled_at: null,
  cancel_mode: null,
  cancel_reason: null,
  cancel_reason_code: null,
  abort_config: null,
  retry_config: null,
  scheduling_config: { start_time: "2099-01-01T02:00:00Z", end_time: null, end_behavior: null, maintenance_windows: [] },
  rollout: { reached: 0, total: 120, rate_per_minute: 30, window_opened_at: null, stopped_at: null, history: [] },
  abort: null,
  schedule: { start_time: "2099-01-01T02:00:00Z", end_time: null, end_behavior: null, end_applied_at: null, in_window: null, next_window: null },
};

function showJob(job: JobDetail) {
  fakeApi({
    [`GET /customer/jobs/${job.job_id}`]: () => [200, job],
    [`GET /customer/jobs/${job.job_id}/executions`]: () => [200, { executions: job.executions, total: job.executions.length, limit: 50, offset: 0 }],
  });
  renderWithProviders(
    <Routes>
      <Route path="/jobs/:jobId" element={<JobDetailPage />} />
    </Routes>,
    `/jobs/${job.job_id}`,
  );
}

describe("JobDetailPage rollout", () => {
  it("shows the rollout's reach over time, why it was aborted, the retries and the schedule", async () => {
    showJob(aborted);
    const rollout = await screen.findByTestId("rollout-card");
    expect(within(rollout).getByTestId("rollout-reached")).toHaveTextContent("90 / 120 reached");
    expect(within(rollout).getByRole("progressbar", { name: "devices reached" })).toHaveAttribute("aria-valuenow", "75");
    expect(within(rollout).getByTestId("rollout-rate")).toHaveTextContent("30 a minute");
    expect(within(rollout).getByText("Plan: reaches 30 devices a minute.")).toBeInTheDocument();
    expect(within(rollout).getByRole("img", { name: "devices reached over time" })).toBeInTheDocument();
    expect(within(rollout).getByTestId("rollout-line")).toHaveAttribute("d", "M0 120 V90 H240 V60 H480 V30");

    const abort = screen.getByTestId("abort-card");
    expect(within(abort).getByText("Criteria: stops if 20 % of at least 5 devices fail.")).toBeInTheDocument();
    expect(within(abort).getByTestId("abort-state")).toHaveTextContent(
      "20 failures of 60 executed (FAILED), met the criterion: stops if 20 % of at least 5 devices fail.",
    );
    expect(within(abort).getByTestId("abort-reason")).toHaveTextContent(
      "aborted: 20 of 60 executed devices FAILED (33.33 %), criterion: at least 20 % of at least 5 [ABORTED_FAILED]",
    );

    expect(screen.getByTestId("retry-card")).toHaveTextContent("Retries failures twice.");
    expect(screen.getByTestId("retry-card")).toHaveTextContent("FAILED: 2 retries");

    const schedule = screen.getByTestId("schedule-card");
    expect(schedule).toHaveTextContent("Starts 2027-01-01 02:00 UTC, cancels the job at 06:00");
    expect(schedule).toHaveTextContent("CANCEL (cancels the job)");
    expect(within(schedule).getByTestId("in-window")).toHaveTextContent("yes");
    expect(within(schedule).getByText("Current window")).toBeInTheDocument();
    expect(within(schedule).getByRole("list", { name: "maintenance windows" })).toHaveTextContent("0 2 * * * (UTC) for 240 min");

    const table = await screen.findByRole("table", { name: "executions" });
    const retries = within(table)
      .getAllByTestId("retry-attempt")
      .map((td) => td.textContent);
    expect(retries).toEqual(["2", "0", "1"]);
  });

  it("shows a SCHEDULED job waiting for its start, with nothing reached and no abort or retry cards", async () => {
    showJob(scheduled);
    expect(await screen.findByTestId("job-title")).toHaveTextContent("SCHEDULED");
    expect(screen.getByTestId("job-starts")).toBeInTheDocument();
    expect(screen.getByTestId("rollout-reached")).toHaveTextContent("0 / 120 reached");
    expect(screen.getByText("No device reached yet.")).toBeInTheDocument();
    expect(screen.getByTestId("in-window")).toHaveTextContent("no windows");
    expect(screen.queryByTestId("abort-card")).not.toBeInTheDocument();
    expect(screen.queryByTestId("retry-card")).not.toBeInTheDocument();
  });

  it("shows nothing of rollouts for a job without configs", async () => {
    showJob({
      ...scheduled,
      job_id: "plain",
      status: "IN_PROGRESS",
      rollout_config: null,
      scheduling_config: null,
      schedule: null,
      rollout: { reached: 120, total: 120, rate_per_minute: null, window_opened_at: null, stopped_at: null, history: [] },
    });
    expect(await screen.findByTestId("job-title")).toHaveTextContent("IN_PROGRESS");
    expect(screen.queryByTestId("rollout-card")).not.toBeInTheDocument();
    expect(screen.queryByTestId("schedule-card")).not.toBeInTheDocument();
  });
});

describe("JobsPage", () => {
  it("lists SCHEDULED jobs with their start and offers SCHEDULED in the status filter", async () => {
    const list: JobList = {
      jobs: [
        scheduled,
        { ...aborted, job_id: "rolling", status: "IN_PROGRESS", abort: { aborted: false }, canceled_at: null },
      ],
      total: 2,
      limit: 25,
      offset: 0,
    };
    const calls = fakeApi({ "GET /customer/jobs": () => [200, list] });
    renderWithProviders(<JobsPage />, "/jobs?status=SCHEDULED");
    const table = await screen.findByRole("table", { name: "jobs" });
    const later = table.querySelector('tr[data-job-id="later"]') as HTMLElement;
    expect(within(later).getByText("SCHEDULED")).toBeInTheDocument();
    expect(within(later).getByTestId("rollout-note")).toHaveTextContent(/^starts /);
    const rolling = table.querySelector('tr[data-job-id="rolling"]') as HTMLElement;
    expect(within(rolling).getByTestId("rollout-note")).toHaveTextContent("90 / 120 reached");
    expect(calls[0]?.path).toBe("/customer/jobs?status=SCHEDULED&limit=25&offset=0");
    expect(screen.getByRole("combobox", { name: "Status" })).toHaveValue("SCHEDULED");
  });
});
