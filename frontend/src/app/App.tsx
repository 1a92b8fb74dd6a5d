import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider, useQueryClient } from "@tanstack/react-query";
import { Suspense, lazy, useEffect, useState, type ComponentType } from "react";
import { BrowserRouter, Navigate, Outlet, Route, Routes } from "react-router-dom";

import { Empty, Loading } from "../features/common/QueryState";
import { onSessionChange } from "../services/api/session";
import { getStyleNonce } from "./cspNonce";
import { Layout } from "./Layout";
import { LiveUpdates } from "./live/LiveUpdates";
import { makeQueryClient } from "./queryClient";
import { SessionProvider } from "./SessionContext";
import { cssVariablesResolver, theme } from "./theme";

// Each page is its own chunk, loaded when first visited: the initial load is the shell (Mantine, the router,
// the query client, the layout) only. `scripts/checkBundle.mjs` (npm test) keeps it under its budget.
const page = <K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) =>
  lazy(async () => ({ default: (await load())[name] }));

const LoginPage = page(() => import("../features/auth/LoginPage"), "LoginPage");
const DashboardPage = page(() => import("../features/dashboard/DashboardPage"), "DashboardPage");
const DevicesPage = page(() => import("../features/devices/DevicesPage"), "DevicesPage");
const DeviceDetailPage = page(() => import("../features/devices/DeviceDetailPage"), "DeviceDetailPage");
const GroupsPage = page(() => import("../features/groups/GroupsPage"), "GroupsPage");
const GroupDetailPage = page(() => import("../features/groups/GroupDetailPage"), "GroupDetailPage");
const JobsPage = page(() => import("../features/jobs/JobsPage"), "JobsPage");
const JobDetailPage = page(() => import("../features/jobs/JobDetailPage"), "JobDetailPage");
const ArtifactsPage = page(() => import("../features/artifacts/ArtifactsPage"), "ArtifactsPage");
const ArtifactDetailPage = page(() => import("../features/artifacts/ArtifactDetailPage"), "ArtifactDetailPage");
const TemplatesPage = page(() => import("../features/templates/TemplatesPage"), "TemplatesPage");
const TemplateDetailPage = page(() => import("../features/templates/TemplateDetailPage"), "TemplateDetailPage");
const AuditPage = page(() => import("../features/audit/AuditPage"), "AuditPage");
const AccessKeysPage = page(() => import("../features/accessKeys/AccessKeysPage"), "AccessKeysPage");
const UsersPage = page(() => import("../features/users/UsersPage"), "UsersPage");

/** The page under the layout, with a loading state while its chunk arrives (the navigation stays). */
function PageOutlet() {
  return (
    <Suspense fallback={<Loading what="page" />}>
      <Outlet />
    </Suspense>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route
        path="/login"
        element={
          <Suspense fallback={<Loading what="page" />}>
            <LoginPage />
          </Suspense>
        }
      />
      <Route element={<Layout />}>
        <Route element={<PageOutlet />}>
          <Route index element={<Navigate to="/dashboard" replace />} />
          <Route path="/dashboard" element={<DashboardPage />} />
          <Route path="/devices" element={<DevicesPage />} />
          <Route path="/devices/:deviceId" element={<DeviceDetailPage />} />
          <Route path="/groups" element={<GroupsPage />} />
          <Route path="/groups/:groupId" element={<GroupDetailPage />} />
          <Route path="/jobs" element={<JobsPage />} />
          <Route path="/jobs/:jobId" element={<JobDetailPage />} />
          <Route path="/artifacts" element={<ArtifactsPage />} />
          <Route path="/artifacts/:name" element={<ArtifactDetailPage />} />
          <Route path="/templates" element={<TemplatesPage />} />
          <Route path="/templates/:templateId" element={<TemplateDetailPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/access-keys" element={<AccessKeysPage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="*" element={<Empty>Page not found.</Empty>} />
        </Route>
      </Route>
    </Routes>
  );
}

/** A signed-out operator's cached data never shows to the next one. */
function ClearCacheOnSignOut() {
  const queryClient = useQueryClient();
  useEffect(() => onSessionChange((s) => (s ? undefined : queryClient.clear())), [queryClient]);
  return null;
}

export function App() {
  const [queryClient] = useState(makeQueryClient);
  return (
    <MantineProvider
      theme={theme}
      cssVariablesResolver={cssVariablesResolver}
      defaultColorScheme="auto" // the system's, unless the operator chose (public/color-scheme.js sets it first)
      getStyleNonce={getStyleNonce}
    >
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <ClearCacheOnSignOut />
        <SessionProvider>
          <LiveUpdates />
          <BrowserRouter>
            <AppRoutes />
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
