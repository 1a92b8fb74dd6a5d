import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { DeviceExecutionPage, JobCounts, JobStatus } from "../../services/api/jobs";
import { $api } from "../../services/api/openapi";
import { fakeApi, renderWithProviders } from "../../test/render";
import { DeviceJobsPanel } from "../devices/DeviceJobsPanel";
import { CancelJobButton } from "./CancelJobButton";

const counts: JobCounts = { queued: 2, in_progress: 0, succeeded: 1, failed: 0, timed_out: 0, rejected: 0, canceled: 0, removed: 0 };

/** dev-1 already finished its execution of j-1 (so its panel has no reason to poll); the job is still running. */
const devicePage = (jobStatus: JobStatus): DeviceExecutionPage => ({
  device_id: "dev-1",
  total: 1,
  limit: 20,
  offset: 0,
  executions: [
    {
      job_id: "j-1",
      device_id: "dev-1",
      document_type: "reboot",
      job_status: jobStatus,
      status: "SUCCEEDED",
      status_details: null,
      execution_number: 1,
      queued_at: "2024-05-01T12:00:00Z",
      started_at: "2024-05-01T12:00:01Z",
      last_updated_at: "2024-05-01T12:00:02Z",
      retry_attempt: 0,
    },
  ],
});

function fakeCancel() {
  let canceled = false;
  const calls = fakeApi({
    "GET /customer/devices/dev-1/jobs": () => [200, devicePage(canceled ? "CANCELED" : "IN_PROGRESS")],
    "DELETE /customer/jobs/j-1": () => {
      canceled = true;
      return [200, { job_id: "j-1", status: "CANCELED", rejected_executions: 2 }];
    },
  });
  return calls;
}

async function cancel(user: ReturnType<typeof userEvent.setup>) {
  await user.click(screen.getByRole("button", { name: "Cancel job" }));
  await user.click(await screen.findByRole("button", { name: "Cancel job now" }));
}

describe("CancelJobButton", () => {
  it("refreshes the device jobs panel, which then shows the job CANCELED", async () => {
    const calls = fakeCancel();
    const user = userEvent.setup();
    renderWithProviders(
      <>
        <CancelJobButton jobId="j-1" counts={counts} />
        <DeviceJobsPanel deviceId="dev-1" />
      </>,
    );
    const row = await screen.findByRole("row", { name: /j-1/ });
    expect(within(row).getByText("IN_PROGRESS")).toBeInTheDocument();

    await cancel(user);
    await waitFor(() => expect(within(screen.getByRole("row", { name: /j-1/ })).getByText("CANCELED")).toBeInTheDocument());
    expect(within(screen.getByRole("row", { name: /j-1/ })).queryByText("IN_PROGRESS")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === "DELETE")).toEqual([{ method: "DELETE", path: "/customer/jobs/j-1", body: undefined }]);
  });

  it("invalidates every cached view of the job and no other job's", async () => {
    fakeCancel();
    const user = userEvent.setup();
    const { client } = renderWithProviders(<CancelJobButton jobId="j-1" counts={counts} />);
    const views = {
      detail: $api.queryOptions("get", "/customer/jobs/{job_id}", { params: { path: { job_id: "j-1" } } }).queryKey,
      list: $api.queryOptions("get", "/customer/jobs", { params: { query: { status: "IN_PROGRESS", limit: 25, offset: 0 } } }).queryKey,
      executions: $api.queryOptions("get", "/customer/jobs/{job_id}/executions", {
        params: { path: { job_id: "j-1" }, query: { limit: 50, offset: 50 } },
      }).queryKey,
      history: $api.queryOptions("get", "/customer/jobs/{job_id}/executions/{device_id}/events", {
        params: { path: { job_id: "j-1", device_id: "dev-2" } },
      }).queryKey,
      series: $api.queryOptions("get", "/customer/jobs/{job_id}/status-series", { params: { path: { job_id: "j-1" } } }).queryKey,
      reasons: $api.queryOptions("get", "/customer/jobs/{job_id}/failure-reasons", {
        params: { path: { job_id: "j-1" }, query: { limit: 10 } },
      }).queryKey,
      deviceJobs: $api.queryOptions("get", "/customer/devices/{device_id}/jobs", {
        params: { path: { device_id: "dev-1" }, query: { limit: 20, offset: 0 } },
      }).queryKey,
    };
    const otherJob = $api.queryOptions("get", "/customer/jobs/{job_id}", { params: { path: { job_id: "j-2" } } }).queryKey;
    const otherSeries = $api.queryOptions("get", "/customer/jobs/{job_id}/status-series", { params: { path: { job_id: "j-2" } } }).queryKey;
    for (const key of [...Object.values(views), otherJob, otherSeries]) client.setQueryData(key, { cached: true } as never);

    await cancel(user);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Cancel job now" })).not.toBeInTheDocument());
    const invalidated = Object.fromEntries(
      Object.entries(views).map(([name, key]) => [name, client.getQueryState(key)?.isInvalidated]),
    );
    expect(invalidated).toEqual({
      detail: true,
      list: true,
      executions: true,
      history: true,
      series: true,
      reasons: true,
      deviceJobs: true,
    });
    expect(client.getQueryState(otherJob)?.isInvalidated).toBe(false);
    expect(client.getQueryState(otherSeries)?.isInvalidated).toBe(false);
  });
});
