import { DEFAULT_THEME, MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";

import { DeviceStatusBadges } from "../features/devices/DeviceStatusBadges";
import { StatusBadge } from "../features/jobs/StatusBadge";
import type { ExecutionStatus, JobStatus } from "../services/api/jobs";
import { contrast, cssVariablesResolver, readable, theme } from "./theme";
import classes from "./theme.module.css";

const C = DEFAULT_THEME.colors;
const vars = cssVariablesResolver(theme as never);
const light = vars.light as Record<string, string>;
const dark = vars.dark as Record<string, string>;

describe("the theme's colors read at WCAG AA (4.5:1) in both schemes", () => {
  test("contrast() is WCAG's ratio", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#ffffff", "#ffffff")).toBeCloseTo(1, 5);
    expect(contrast("#868e96", "#ffffff")).toBeCloseTo(3.32, 2); // Mantine's dimmed, as axe measured it
  });

  test("readable() keeps a color that already reads, and darkens one that does not", () => {
    expect(readable("#212529", ["#ffffff"], "darker")).toBe("#212529");
    const dimmed = readable(C.gray[6], ["#ffffff"], "darker");
    expect(dimmed).not.toBe(C.gray[6]);
    expect(contrast(dimmed, "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });

  test.each(Object.keys(C))("%s: filled, light, outline and text", (name) => {
    const shades = C[name]!;
    for (const bg of [DEFAULT_THEME.white, C.gray[0], C.gray[1]]) {
      expect(contrast(light[`--mantine-color-${name}-text`]!, bg)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(light[`--mantine-color-${name}-outline`]!, bg)).toBeGreaterThanOrEqual(4.5);
    }
    expect(contrast(light[`--mantine-color-${name}-filled`]!, DEFAULT_THEME.white)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(light[`--mantine-color-${name}-light-color`]!, shades[1])).toBeGreaterThanOrEqual(4.5);
    for (const bg of [C.dark[7], C.dark[6]]) {
      expect(contrast(dark[`--mantine-color-${name}-text`]!, bg)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(dark[`--mantine-color-${name}-outline`]!, bg)).toBeGreaterThanOrEqual(4.5);
    }
    expect(contrast(dark[`--mantine-color-${name}-filled`]!, DEFAULT_THEME.white)).toBeGreaterThanOrEqual(4.5);
  });

  test("dimmed text, placeholders and links", () => {
    for (const v of ["dimmed", "placeholder", "anchor", "error"]) {
      expect(contrast(light[`--mantine-color-${v}`]!, C.gray[0])).toBeGreaterThanOrEqual(4.5);
      expect(contrast(dark[`--mantine-color-${v}`]!, C.dark[6])).toBeGreaterThanOrEqual(4.5);
    }
  });
});

// Every status a badge can show (typed: a status added to the API's enums fails to compile here until listed).
const STATUSES: Record<JobStatus | ExecutionStatus, true> = {
  SCHEDULED: true,
  IN_PROGRESS: true,
  COMPLETED: true,
  CANCELED: true,
  QUEUED: true,
  SUCCEEDED: true,
  FAILED: true,
  TIMED_OUT: true,
  REJECTED: true,
  REMOVED: true,
};

describe("status badges keep their whole text", () => {
  test("the theme gives badges its classes", () => {
    expect(classes.badge).toMatch(/badge/);
    expect(classes.badgeLabel).toMatch(/badgeLabel/);
  });

  test.each(Object.keys(STATUSES) as (JobStatus | ExecutionStatus)[])("%s", (status) => {
    render(
      <MantineProvider theme={theme} env="test">
        <StatusBadge status={status} />
      </MantineProvider>,
    );
    const badge = document.querySelector(`[data-status="${status}"]`)!;
    expect(badge).toHaveTextContent(new RegExp(`^${status}$`));
    // the theme's classes, which let no badge be cut with an ellipsis (the browser test measures it)
    expect(badge).toHaveClass(classes.badge!);
    expect(badge.querySelector(".mantine-Badge-label")).toHaveClass(classes.badgeLabel!);
  });

  test("device presence and revocation", () => {
    render(
      <MantineProvider theme={theme} env="test">
        <DeviceStatusBadges device={{ status: "REVOKED", last_seen_at: null }} />
        <DeviceStatusBadges device={{ status: "ACTIVE", last_seen_at: null }} />
      </MantineProvider>,
    );
    for (const text of ["REVOKED", "offline"]) {
      const badge = screen.getByText(text).closest(".mantine-Badge-root")!;
      expect(badge).toHaveClass(classes.badge!);
    }
  });
});
