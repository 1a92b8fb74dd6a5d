import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";

import { ArtifactDetailPage } from "../features/artifacts/ArtifactDetailPage";
import { ArtifactsPage } from "../features/artifacts/ArtifactsPage";
import { Empty } from "../features/common/QueryState";
import { LoginPage } from "../features/auth/LoginPage";
import { DeviceDetailPage } from "../features/devices/DeviceDetailPage";
import { DevicesPage } from "../features/devices/DevicesPage";
import { GroupDetailPage } from "../features/groups/GroupDetailPage";
import { GroupsPage } from "../features/groups/GroupsPage";
import { JobDetailPage } from "../features/jobs/JobDetailPage";
import { JobsPage } from "../features/jobs/JobsPage";
import { TemplateDetailPage } from "../features/templates/TemplateDetailPage";
import { TemplatesPage } from "../features/templates/TemplatesPage";
import { AuditPage } from "../features/audit/AuditPage";
import { AccessKeysPage } from "../features/accessKeys/AccessKeysPage";
import { onSessionChange } from "../services/api/session";
import { getStyleNonce } from "./cspNonce";
import { Layout } from "./Layout";
import { makeQueryClient } from "./queryClient";
import { SessionProvider } from "./SessionContext";
import { cssVariablesResolver, theme } from "./theme";

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/jobs" replace />} />
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
        <Route path="*" element={<Empty>Page not found.</Empty>} />
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
          <BrowserRouter>
            <AppRoutes />
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
