import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";

import type { Execution, JobCounts } from "../../services/api/jobs";
import { fakeApi, renderWithProviders, type Call } from "../../test/render";
import { DeleteExecutionButton } from "./DeleteExecutionButton";
import { DeleteJobButton } from "./DeleteJobButton";

const counts: JobCounts = { queued: 2, in_progress: 1, succeeded: 4, failed: 0, timed_out: 0, rejected: 0, canceled: 0, removed: 0 };
const posts = (calls: Call[]) => calls.filter((c) => c.method === "POST");

function showJobDelete(status: "IN_PROGRESS" | "COMPLETED" = "IN_PROGRESS") {
  return renderWithProviders(
    <Routes>
      <Route path="/jobs" element={<p>the jobs list</p>} />
      <Route path="/jobs/:jobId" element={<DeleteJobButton jobId="j-1" status={status} counts={counts} />} />
    </Routes>,
    "/jobs/j-1",
  );
}

describe("DeleteJobButton", () => {
  it("says what is lost, deletes a finished job without force and goes to the jobs list", async () => {
    const calls = fakeApi({
      "POST /customer/jobs/j-1/delete": () => [200, { job_id: "j-1", force: false, deleted_executions: 7, delete_complete: true }],
    });
    const user = userEvent.setup();
    showJobDelete("COMPLETED");
    await user.click(screen.getByRole("button", { name: "Delete job" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete job j-1?" });
    expect(dialog).toHaveTextContent(/its executions and their history are gone/);
    expect(dialog).toHaveTextContent(/get 404 on their next update/);
    await user.click(within(dialog).getByRole("button", { name: "Delete job" }));
    expect(await screen.findByText("the jobs list")).toBeInTheDocument();
    expect(posts(calls)).toEqual([{ method: "POST", path: "/customer/jobs/j-1/delete", body: { force: false } }]);
  });

  it("shows the API's 409 when force is needed, offers force, and sends it", async () => {
    const calls = fakeApi({
      "POST /customer/jobs/j-1/delete": (call) =>
        (call.body as { force: boolean }).force
          ? [200, { job_id: "j-1", force: true, deleted_executions: 7, delete_complete: true }]
          : [
              409,
              {
                error: "conflict",
                detail: "job 'j-1' is IN_PROGRESS with 3 active executions; delete it with force: true",
                reason: "not_forced",
                status: "IN_PROGRESS",
                counts,
              },
            ],
    });
    const user = userEvent.setup();
    showJobDelete();
    await user.click(screen.getByRole("button", { name: "Delete job" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete job j-1?" });
    expect(dialog).toHaveTextContent("(this one has 3)");
    await user.click(within(dialog).getByRole("button", { name: "Delete job" }));
    const offer = await within(dialog).findByTestId("force-needed");
    expect(dialog).toHaveTextContent("IN_PROGRESS with 3 active executions; delete it with force"); // the API's message
    expect(offer).toHaveTextContent(/404 on its next update/);
    expect(screen.queryByText("the jobs list")).not.toBeInTheDocument();
    await user.click(within(offer).getByRole("button", { name: "Delete with force" }));
    expect(await screen.findByText("the jobs list")).toBeInTheDocument();
    expect(posts(calls).map((c) => c.body)).toEqual([{ force: false }, { force: true }]);
  });

  it("shows another refusal without offering force", async () => {
    fakeApi({ "POST /customer/jobs/j-1/delete": () => [404, { error: "not_found", detail: "job 'j-1' not found" }] });
    const user = userEvent.setup();
    showJobDelete();
    await user.click(screen.getByRole("button", { name: "Delete job" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete job" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("job 'j-1' not found");
    expect(within(dialog).queryByTestId("force-needed")).not.toBeInTheDocument();
  });
});

const execution = (status: Execution["status"], execution_number: number): Execution => ({
  device_id: "dev-1",
  status,
  status_details: null,
  execution_number,
  queued_at: "2024-05-01T12:00:00Z",
  started_at: status === "IN_PROGRESS" ? "2024-05-01T12:00:01Z" : null,
  last_updated_at: "2024-05-01T12:00:01Z",
  retry_attempt: 0,
});

describe("DeleteExecutionButton", () => {
  it("deletes a finished execution at the number shown, without force", async () => {
    const calls = fakeApi({
      "POST /customer/jobs/j-1/executions/dev-1/delete": () => [200, { ...execution("SUCCEEDED", 2), job_id: "j-1", job_completed: false }],
    });
    const user = userEvent.setup();
    renderWithProviders(<DeleteExecutionButton jobId="j-1" execution={execution("SUCCEEDED", 2)} />);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete the execution of dev-1?" });
    expect(dialog).toHaveTextContent(/its history are gone for good/);
    await user.click(within(dialog).getByRole("button", { name: "Delete execution" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(posts(calls)).toEqual([
      { method: "POST", path: "/customer/jobs/j-1/executions/dev-1/delete", body: { force: false, execution_number: 2 } },
    ]);
  });

  it("on the 409 not_forced offers force and sends it", async () => {
    const current = { ...execution("IN_PROGRESS", 1), job_id: "j-1", job_completed: false };
    const calls = fakeApi({
      "POST /customer/jobs/j-1/executions/dev-1/delete": (call) =>
        (call.body as { force: boolean }).force
          ? [200, { ...current, job_completed: true }]
          : [409, { error: "conflict", detail: "cannot delete the execution: not_forced", reason: "not_forced", current }],
    });
    const user = userEvent.setup();
    renderWithProviders(<DeleteExecutionButton jobId="j-1" execution={execution("IN_PROGRESS", 1)} />);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent(/deleted only with force, and the device gets 404/);
    await user.click(within(dialog).getByRole("button", { name: "Delete execution" }));
    expect(await within(dialog).findByTestId("force-needed")).toBeInTheDocument();
    expect(dialog).toHaveTextContent("cannot delete the execution: not_forced");
    await user.click(within(dialog).getByRole("button", { name: "Delete with force" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(posts(calls).map((c) => c.body)).toEqual([
      { force: false, execution_number: 1 },
      { force: true, execution_number: 1 },
    ]);
  });
});
