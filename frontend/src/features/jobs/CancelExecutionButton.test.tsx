import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Execution } from "../../services/api/jobs";
import { fakeApi, renderWithProviders } from "../../test/render";
import { CancelExecutionButton } from "./CancelExecutionButton";

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

const canceled = { ...execution("CANCELED", 3), job_id: "j-1", job_completed: false };

describe("CancelExecutionButton", () => {
  it("cancels a QUEUED execution without force", async () => {
    const calls = fakeApi({ "POST /customer/jobs/j-1/executions/dev-1/cancel": () => [200, canceled] });
    const user = userEvent.setup();
    renderWithProviders(<CancelExecutionButton jobId="j-1" execution={execution("QUEUED", 1)} />);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    await user.click(await screen.findByRole("button", { name: "Cancel execution" }));
    await waitFor(() =>
      expect(calls.filter((c) => c.method === "POST")).toEqual([
        { method: "POST", path: "/customer/jobs/j-1/executions/dev-1/cancel", body: { force: false } },
      ]),
    );
  });

  it("force-cancels an IN_PROGRESS execution at the number shown, and shows a refusal", async () => {
    const calls = fakeApi({
      "POST /customer/jobs/j-1/executions/dev-1/cancel": () => [
        409,
        { error: "conflict", detail: "stale expected_version 2; current is 3", reason: "version_mismatch" },
      ],
    });
    const user = userEvent.setup();
    renderWithProviders(<CancelExecutionButton jobId="j-1" execution={execution("IN_PROGRESS", 2)} />);
    await user.click(screen.getByRole("button", { name: "Force cancel" }));
    await user.click(await screen.findByRole("button", { name: "Cancel execution" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("stale expected_version 2");
    expect(calls.filter((c) => c.method === "POST")[0]?.body).toEqual({ force: true, expected_version: 2 });
  });
});
