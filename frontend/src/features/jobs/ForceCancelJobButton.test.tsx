import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { JobCounts } from "../../services/api/jobs";
import { fakeApi, renderWithProviders } from "../../test/render";
import { ForceCancelJobButton } from "./ForceCancelJobButton";

const counts: JobCounts = { queued: 2, in_progress: 1, succeeded: 0, failed: 0, timed_out: 0, rejected: 0, canceled: 0, removed: 0 };

describe("ForceCancelJobButton", () => {
  it("sends CancelJob with the force flag and the comment", async () => {
    const calls = fakeApi({
      "POST /customer/jobs/j-1/cancel": () => [
        200,
        { job_id: "j-1", status: "CANCELED", force: true, canceled_executions: 3, sweep_complete: true },
      ],
    });
    const user = userEvent.setup();
    renderWithProviders(<ForceCancelJobButton jobId="j-1" counts={counts} />);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(await screen.findByText(/keep running/)).toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: /Force/ }));
    expect(screen.getByText(/next update is refused/)).toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: /Comment/ }), "bad build");
    await user.click(screen.getByRole("button", { name: "Cancel now" }));
    await waitFor(() =>
      expect(calls.filter((c) => c.method === "POST")).toEqual([
        { method: "POST", path: "/customer/jobs/j-1/cancel", body: { force: true, comment: "bad build" } },
      ]),
    );
  });
});
