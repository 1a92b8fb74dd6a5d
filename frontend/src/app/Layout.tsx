import { AppShell, Badge, Button, Group, NavLink as MantineNavLink, Text, Title } from "@mantine/core";
import type { MouseEvent } from "react";
import { NavLink, Navigate, Outlet, useLocation } from "react-router-dom";

import { saveSession, sessionExpired } from "../services/api/session";
import classes from "./Layout.module.css";
import { LiveIndicator } from "./live/LiveIndicator";
import { useSession } from "./SessionContext";

const NAV: { to: string; label: string; adminOnly?: boolean }[] = [
  { to: "/dashboard", label: "Dashboard" },
  { to: "/jobs", label: "Jobs" },
  { to: "/devices", label: "Devices" },
  { to: "/groups", label: "Groups" },
  { to: "/templates", label: "Templates" },
  { to: "/artifacts", label: "Artifacts" },
  { to: "/audit", label: "Audit" },
  { to: "/access-keys", label: "Access keys" },
  { to: "/users", label: "Users", adminOnly: true },
];

const MAIN_ID = "main-content";

/** Moves the focus to the page's content (past the header and the navigation), as the first Tab offers. */
function skipToContent(e: MouseEvent<HTMLAnchorElement>) {
  e.preventDefault(); // the router's URL keeps no #fragment
  document.getElementById(MAIN_ID)?.focus();
}

export function Layout() {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}${sessionExpired() ? "&expired=1" : ""}`} replace />;
  }
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: "xs" }} padding="md">
      <a href={`#${MAIN_ID}`} className={classes.skipLink} onClick={skipToContent}>
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Title order={1} size="h4">
            iotcloud
          </Title>
          <Group gap="sm">
            <LiveIndicator />
            <Text size="sm" data-testid="who">
              {session.email}
            </Text>
            <Badge variant="light">{session.role}</Badge>
            <Text size="xs" c="dimmed">
              tenant {session.tenantId}
            </Text>
            <Button size="xs" variant="default" onClick={() => saveSession(null)}>
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="main">
        {NAV.filter((item) => !item.adminOnly || session.role === "admin").map((item) => (
          <MantineNavLink
            key={item.to}
            component={NavLink}
            to={item.to}
            label={item.label}
            active={location.pathname.startsWith(item.to)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id={MAIN_ID} tabIndex={-1} className={classes.main}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
