import { screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { JobDetail } from "../../services/api/jobs";
import type { Schemas } from "../../services/api/types";
import { fakeApi, renderWithProviders } from "../../test/render";
import { aborted } from "../../test/jobs";
import { JobDetailPage } from "./JobDetailPage";
import { bucketWords, drawnSegments, seriesRows } from "./statusSeries";

const zero = { queued: 0, in_progress: 0, succeeded: 0, failed: 0, timed_out: 0, rejected: 0, canceled: 0, removed: 0 };

/** 120 executions: all queued at 01:00, 60 moved by 02:01, the abort's cancel at 02:03. */
const series: Schemas["StatusSeries"] = {
  job_id: "fw-1",
  from: "2027-01-01T01:00:00Z",
  to: "2027-01-01T02:03:00Z",
  bucket_seconds: 60,
  points: [
    { at: "2027-01-01T01:00:00Z", counts: { ...zero, queued: 120 } },
    { at: "2027-01-01T02:01:00Z", counts: { ...zero, queued: 60, succeeded: 40, failed: 20 } },
    { at: "2027-01-01T02:03:00Z", counts: { ...zero, queued: 30, succeeded: 40, failed: 20, canceled: 30 } },
  ],
};

const reasons: Schemas["FailureReasons"] = {
  job_id: "fw-1",
  total: 25,
  limit: 10,
  reasons: [
    { status: "FAILED", reason: "disk_full", count: 12, sample_device_id: "dev-07" },
    { status: "FAILED", reason: null, count: 8, sample_device_id: "dev-02" },
    { status: "TIMED_OUT", reason: "in_progress_timeout", count: 3, sample_device_id: "dev-11" },
  ],
};

function showJob(job: JobDetail, insights: { series: [number, unknown]; reasons: [number, unknown] }) {
  const calls = fakeApi({
    [`GET /customer/jobs/${job.job_id}`]: () => [200, job],
    [`GET /customer/jobs/${job.job_id}/executions`]: () => [200, { executions: [], total: 0, limit: 50, offset: 0 }],
    [`GET /customer/jobs/${job.job_id}/status-series`]: () => insights.series,
    [`GET /customer/jobs/${job.job_id}/failure-reasons`]: () => insights.reasons,
  });
  renderWithProviders(
    <Routes>
      <Route path="/jobs/:jobId" element={<JobDetailPage />} />
    </Routes>,
    `/jobs/${job.job_id}`,
  );
  return calls;
}

describe("statusSeries", () => {
  it("turns the points into chart rows and draws only the statuses that occur, outcomes first", () => {
    const rows = seriesRows(series);
    expect(rows.map((r) => r.at)).toEqual([Date.parse("2027-01-01T01:00:00Z"), Date.parse("2027-01-01T02:01:00Z"), Date.parse("2027-01-01T02:03:00Z")]);
    expect(rows[2]).toMatchObject({ queued: 30, canceled: 30, failed: 20 });
    expect(drawnSegments(rows).map((s) => s.key)).toEqual(["succeeded", "failed", "canceled", "queued"]);
    expect([bucketWords(30), bucketWords(300), bucketWords(10800), bucketWords(604800)]).toEqual(["30 s", "5 min", "3 h", "7 d"]);
  });
});

describe("JobDetailPage insights", () => {
  // jsdom lays nothing out: the chart's container measures as the browser would size it.
  beforeEach(() => {
    const measure = Element.prototype.getBoundingClientRect;
    vi.spyOn(Element.prototype, "getBoundingClientRect").mockImplementation(function (this: Element) {
      return this.classList.contains("recharts-responsive-container") ? new DOMRect(0, 0, 640, 260) : measure.call(this);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it("charts the executions by status over time in the statuses' colors and groups the failures", async () => {
    const calls = showJob(aborted, { series: [200, series], reasons: [200, reasons] });
    const chart = await screen.findByTestId("status-chart", {}, { timeout: 20_000 });
    await within(chart).findByText("Now: 40 succeeded, 20 failed, 30 canceled, 30 queued.");
    const card = screen.getByTestId("status-series-card");
    expect(card).toHaveTextContent("by status, every 1 min");
    const areas = chart.querySelectorAll(".recharts-area-area");
    expect(areas.length).toBe(4);
    const fills = [...areas].map((a) => a.getAttribute("fill"));
    expect(fills).toEqual(expect.arrayContaining(["var(--mantine-color-red-6)", "var(--mantine-color-teal-6)", "var(--mantine-color-gray-6)"]));

    const table = await screen.findByRole("table", { name: "failure reasons" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-reason"))).toEqual(["disk_full", "", "in_progress_timeout"]);
    expect(within(rows[0]!).getByTestId("reason-count")).toHaveTextContent("12");
    expect(within(rows[0]!).getByRole("link", { name: "dev-07" })).toHaveAttribute("href", "/devices/dev-07");
    expect(within(rows[1]!).getByText("no details")).toBeInTheDocument();
    expect(within(rows[2]!).getByText("TIMED_OUT")).toBeInTheDocument();
    expect(screen.getByTestId("failure-reasons")).toHaveTextContent("The 3 most frequent reasons of 25 failures.");
    expect(calls.some((c) => c.path === "/customer/jobs/fw-1/failure-reasons?limit=10")).toBe(true);
    // The abort state stays on the page beside them.
    expect(screen.getByTestId("abort-state")).toHaveTextContent("20 failures of 60 executed");
  }, 40_000);

  it("says so when no execution failed, and shows the API's error for the series", async () => {
    showJob(
      { ...aborted, job_id: "ok-1" },
      {
        series: [503, { error: "unavailable", detail: "the database is not reachable; retry" }],
        reasons: [200, { job_id: "ok-1", total: 0, limit: 10, reasons: [] }],
      },
    );
    const reasonsCard = await screen.findByTestId("failure-reasons");
    expect(await within(reasonsCard).findByText("No failed execution.")).toBeInTheDocument();
    const seriesCard = screen.getByTestId("status-series-card");
    expect(await within(seriesCard).findByTestId("error-message")).toHaveTextContent("the database is not reachable; retry");
    expect(screen.queryByTestId("status-chart")).not.toBeInTheDocument();
  });
});
