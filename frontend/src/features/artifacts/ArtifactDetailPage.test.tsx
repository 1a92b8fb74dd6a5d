import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import type { ArtifactDetail } from "../../services/api/artifacts";
import { saveSession } from "../../services/api/session";
import { fakeApi, renderWithProviders } from "../../test/render";
import { ArtifactDetailPage } from "./ArtifactDetailPage";

const detail: ArtifactDetail = {
  name: "fw.bin",
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  size: 1536,
  content_type: "application/octet-stream",
  created_by: "admin@demo.local",
  created_at: "2024-05-01T12:00:00Z",
  jobs: [
    { job_id: "ota-live", status: "IN_PROGRESS", created_at: "2024-05-02T12:00:00Z", active: true },
    { job_id: "ota-old", status: "COMPLETED", created_at: "2024-05-01T13:00:00Z", active: false },
  ],
};

function show() {
  saveSession({ token: "tok", email: "admin@demo.local", role: "admin", tenantId: "t-1", expiresAt: Date.now() + 3_600_000 });
  return renderWithProviders(
    <SessionProvider>
      <Routes>
        <Route path="/artifacts" element={<p>the artifacts list</p>} />
        <Route path="/artifacts/:name" element={<ArtifactDetailPage />} />
      </Routes>
    </SessionProvider>,
    "/artifacts/fw.bin",
  );
}

describe("ArtifactDetailPage", () => {
  it("shows the jobs that reference the artifact, linked, with the active ones marked", async () => {
    fakeApi({ "GET /customer/artifacts/fw.bin": () => [200, detail] });
    show();
    const jobs = await screen.findByRole("table", { name: "jobs using the artifact" });
    const [live, old] = within(jobs).getAllByRole("row").slice(1);
    expect(within(live!).getByRole("link", { name: "ota-live" })).toHaveAttribute("href", "/jobs/ota-live");
    expect(live).toHaveTextContent("IN_PROGRESS");
    expect(live).toHaveTextContent("active");
    expect(old).toHaveTextContent("COMPLETED");
    expect(old).not.toHaveTextContent("active");
    expect(screen.getByText("${iotcloud:artifact-url:fw.bin}")).toBeInTheDocument();
    expect(screen.getByText(/1\.5 KiB \(1,536 bytes\)/)).toBeInTheDocument();
  });

  it("on a 409 names the jobs still using it, and deletes once they are done", async () => {
    let inUse = true;
    const calls = fakeApi({
      "GET /customer/artifacts/fw.bin": () => [200, detail],
      "DELETE /customer/artifacts/fw.bin": () =>
        inUse
          ? [409, { error: "conflict", detail: "artifact 'fw.bin' is referenced by running jobs: ota-live", jobs: ["ota-live"] }]
          : [204, null],
    });
    const user = userEvent.setup();
    show();
    await user.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete artifact fw.bin?" });
    await user.click(within(dialog).getByRole("button", { name: "Delete artifact" }));

    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("Still in use");
    expect(alert).toHaveTextContent("is referenced by running jobs: ota-live");
    expect(within(within(alert).getByTestId("blocking-jobs")).getByRole("link", { name: "ota-live" })).toHaveAttribute(
      "href",
      "/jobs/ota-live",
    );
    expect(screen.getByRole("heading", { name: /Artifact fw\.bin/ })).toBeInTheDocument(); // still there

    inUse = false;
    await user.click(within(dialog).getByRole("button", { name: "Delete artifact" }));
    expect(await screen.findByText("the artifacts list")).toBeInTheDocument();
    await waitFor(() =>
      expect(calls.filter((c) => c.method === "DELETE")).toEqual([
        { method: "DELETE", path: "/customer/artifacts/fw.bin", body: undefined },
        { method: "DELETE", path: "/customer/artifacts/fw.bin", body: undefined },
      ]),
    );
  });
});
