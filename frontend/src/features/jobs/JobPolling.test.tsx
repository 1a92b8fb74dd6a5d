import { screen, waitFor } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it } from "vitest";

import { setLive } from "../../app/live/liveState";
import type { JobDetail } from "../../services/api/jobs";
import { fakeApi, renderWithProviders } from "../../test/render";
import { aborted } from "../../test/jobs";
import { JobDetailPage } from "./JobDetailPage";
import { LIVE_REFRESH_MS } from "./jobQueries";

const running: JobDetail = { ...aborted, job_id: "run-1", status: "IN_PROGRESS", canceled_at: null, abort: null, abort_config: null };

function showRunningJob() {
  const calls = fakeApi({
    "GET /customer/jobs/run-1": () => [200, running],
    "GET /customer/jobs/run-1/executions": () => [200, { executions: [], total: 0, limit: 50, offset: 0 }],
    "GET /customer/jobs/run-1/status-series": () => [200, { job_id: "run-1", from: running.created_at, to: running.created_at, bucket_seconds: 1, points: [] }],
    "GET /customer/jobs/run-1/failure-reasons": () => [200, { job_id: "run-1", total: 0, limit: 10, reasons: [] }],
  });
  renderWithProviders(
    <Routes>
      <Route path="/jobs/:jobId" element={<JobDetailPage />} />
    </Routes>,
    "/jobs/run-1",
  );
  return () => calls.filter((c) => c.path === "/customer/jobs/run-1").length;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("JobDetailPage polling", () => {
  afterEach(() => setLive(false));

  it("polls a running job while the live stream is down, and not while it is up", async () => {
    setLive(true);
    const jobReads = showRunningJob();
    await screen.findByTestId("job-title");
    await wait(LIVE_REFRESH_MS * 1.5);
    expect(jobReads()).toBe(1);

    setLive(false); // the stream dropped: the page polls again, without anything else happening
    await waitFor(() => expect(jobReads()).toBeGreaterThan(1), { timeout: LIVE_REFRESH_MS * 5 });
  }, 30_000);
});
