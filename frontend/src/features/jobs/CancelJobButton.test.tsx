import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { DeviceExecutionPage, JobCounts, JobStatus } from "../../services/api/jobs";
import { queryKeys } from "../../services/api/queryKeys";
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
      detail: queryKeys.jobs.detail("j-1"),
      list: queryKeys.jobs.list({ status: "IN_PROGRESS", limit: 25, offset: 0 }),
      executions: queryKeys.jobs.executionPage("j-1", { limit: 50, offset: 50 }),
      history: queryKeys.jobs.executionEvents("j-1", "dev-2"),
      deviceJobs: queryKeys.jobs.ofDevice("dev-1", { limit: 20, offset: 0 }),
    };
    const otherJob = queryKeys.jobs.detail("j-2");
    for (const key of [...Object.values(views), otherJob]) client.setQueryData(key, { cached: true });

    await cancel(user);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Cancel job now" })).not.toBeInTheDocument());
    const invalidated = Object.fromEntries(
      Object.entries(views).map(([name, key]) => [name, client.getQueryState(key)?.isInvalidated]),
    );
    expect(invalidated).toEqual({ detail: true, list: true, executions: true, history: true, deviceJobs: true });
    expect(client.getQueryState(otherJob)?.isInvalidated).toBe(false);
  });
});
