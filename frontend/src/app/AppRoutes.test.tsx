import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { saveSession, type Role } from "../services/api/session";
import { fakeApi, renderWithProviders } from "../test/render";
import { AppRoutes } from "./App";
import { SessionProvider } from "./SessionContext";

function signIn(role: Role) {
  saveSession({ token: "tok-1", email: `${role}@t.test`, role, tenantId: "t-1", expiresAt: Date.now() + 3_600_000 });
}

const emptyDashboard = {
  at: "2031-06-07T08:01:00Z",
  devices: { total: 0, active: 0, revoked: 0, online: 0, offline: 0, online_window_seconds: 300 },
  jobs: { by_status: { SCHEDULED: 0, IN_PROGRESS: 0, COMPLETED: 0, CANCELED: 0 }, active_total: 0, active: [] },
  failures: { since: "2031-06-07T07:01:00Z", total: 0, by_job: [], by_reason: [] },
};

function show(at: string) {
  return renderWithProviders(
    <SessionProvider>
      <AppRoutes />
    </SessionProvider>,
    at,
  );
}

describe("AppRoutes", () => {
  it("opens on the dashboard, loading its page chunk on demand; admins get Users in the navigation", async () => {
    signIn("admin");
    fakeApi({ "GET /customer/dashboard": () => [200, emptyDashboard] });
    show("/");
    expect(await screen.findByRole("heading", { name: "Dashboard" }, { timeout: 10_000 })).toBeInTheDocument();
    expect(await screen.findByTestId("stat-devices")).toHaveTextContent("0");
    const nav = screen.getByRole("navigation", { name: "main" });
    expect(within(nav).getByRole("link", { name: "Dashboard" })).toHaveAttribute("href", "/dashboard");
    expect(within(nav).getByRole("link", { name: "Users" })).toHaveAttribute("href", "/users");
  });

  it.each(["operator", "viewer"] as const)("hides Users from a %s's navigation", async (role) => {
    signIn(role);
    fakeApi({ "GET /customer/dashboard": () => [200, emptyDashboard] });
    show("/dashboard");
    const nav = await screen.findByRole("navigation", { name: "main" });
    expect(within(nav).queryByRole("link", { name: "Users" })).not.toBeInTheDocument();
    expect(within(nav).getByRole("link", { name: "Jobs" })).toBeInTheDocument();
  });
});
