import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, renderWithProviders } from "../../test/render";
import { DashboardPage } from "./DashboardPage";
import type { Dashboard } from "./dashboardView";

const counts = { queued: 1, in_progress: 0, succeeded: 1, failed: 1, timed_out: 0, rejected: 1, canceled: 0, removed: 0 };

const dashboard: Dashboard = {
  at: "2031-06-07T08:01:00Z",
  devices: { total: 5, active: 4, revoked: 1, online: 3, offline: 1, online_window_seconds: 300 },
  jobs: {
    by_status: { SCHEDULED: 0, IN_PROGRESS: 1, COMPLETED: 7, CANCELED: 0 },
    active_total: 1,
    active: [
      {
        job_id: "fleet-ota",
        document_type: "ota",
        status: "IN_PROGRESS",
        execution_count: 4,
        counts,
        progress: 0.75,
        created_at: "2031-06-07T08:00:00Z",
      },
    ],
  },
  failures: {
    since: "2031-06-07T07:01:00Z",
    total: 2,
    by_job: [{ job_id: "fleet-ota", failures: 2 }],
    by_reason: [
      { status: "FAILED", reason: "disk full", failures: 1 },
      { status: "REJECTED", reason: null, failures: 1 },
    ],
  },
};

describe("DashboardPage", () => {
  it("shows the fleet's numbers, the active job's progress and the last hour's failures", async () => {
    const calls = fakeApi({ "GET /customer/dashboard": () => [200, dashboard] });
    renderWithProviders(<DashboardPage />);
    expect(await screen.findByTestId("stat-devices")).toHaveTextContent("5");
    expect(screen.getByTestId("stat-online")).toHaveTextContent("3");
    expect(screen.getByTestId("stat-offline")).toHaveTextContent("1");
    expect(screen.getByTestId("stat-active-jobs")).toHaveTextContent("1");
    expect(screen.getByTestId("stat-completed-jobs")).toHaveTextContent("7");
    expect(screen.getByTestId("stat-failures")).toHaveTextContent("2");
    expect(screen.getByText("75% of active, seen in 5 min")).toBeInTheDocument();

    const active = screen.getByRole("table", { name: "active jobs" });
    expect(within(active).getByRole("link", { name: "fleet-ota" })).toHaveAttribute("href", "/jobs/fleet-ota");
    const bar = within(active).getByRole("progressbar", { name: "progress of fleet-ota" });
    expect(bar).toHaveAttribute("aria-valuenow", "75");
    expect(within(active).getByText("3/4 done")).toBeInTheDocument();

    const byJob = screen.getByRole("table", { name: "failures by job" });
    expect(within(byJob).getAllByRole("row").map((r) => r.textContent)).toEqual(["fleet-ota2"]);
    const byReason = screen.getByRole("table", { name: "failures by reason" });
    expect(within(byReason).getAllByRole("row").map((r) => r.textContent)).toEqual(["failed: disk full1", "rejected1"]);
    expect(screen.getByRole("img", { name: "Online 3, Offline 1, Revoked 1" })).toBeInTheDocument();
    expect(calls.map((c) => c.path)).toEqual(["/customer/dashboard"]);
  });

  it("says so when nothing runs and nothing failed", async () => {
    fakeApi({
      "GET /customer/dashboard": () => [
        200,
        {
          ...dashboard,
          jobs: { by_status: { SCHEDULED: 0, IN_PROGRESS: 0, COMPLETED: 0, CANCELED: 0 }, active_total: 0, active: [] },
          failures: { since: dashboard.failures.since, total: 0, by_job: [], by_reason: [] },
        },
      ],
    });
    renderWithProviders(<DashboardPage />);
    expect(await screen.findByText("No job is running.")).toBeInTheDocument();
    expect(screen.getByText("No execution failed, timed out or was rejected in the last hour.")).toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "failures by job" })).not.toBeInTheDocument();
  });

  it("shows the API's error with a retry", async () => {
    fakeApi({ "GET /customer/dashboard": () => [503, { error: "unavailable", detail: "database unavailable" }] });
    renderWithProviders(<DashboardPage />);
    expect(await screen.findByTestId("error-message")).toHaveTextContent("database unavailable");
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });
});
