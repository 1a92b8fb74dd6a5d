// The dashboard's pure parts: what each chart draws from GET /customer/dashboard.

import type { Schemas } from "../../services/api/types";

export type Dashboard = Schemas["DashboardOut"];
export type ActiveJob = Schemas["ActiveJob"];

export interface Slice {
  key: string;
  label: string;
  value: number;
  color: string;
}

/** The fleet by connection: online and offline ACTIVE devices, and revoked ones (never online). */
export function deviceSlices(devices: Dashboard["devices"]): Slice[] {
  return [
    { key: "online", label: "Online", value: devices.online, color: "var(--mantine-color-teal-6)" },
    { key: "offline", label: "Offline", value: devices.offline, color: "var(--mantine-color-gray-5)" },
    { key: "revoked", label: "Revoked", value: devices.revoked, color: "var(--mantine-color-red-4)" },
  ];
}

const JOB_STATUS_LABELS: Record<string, string> = {
  SCHEDULED: "Scheduled",
  IN_PROGRESS: "In progress",
  COMPLETED: "Completed",
  CANCELED: "Canceled",
};

/** Jobs by status, in the order a job goes through them. */
export function jobBars(byStatus: Record<string, number>): { status: string; label: string; jobs: number }[] {
  return Object.keys(JOB_STATUS_LABELS).map((status) => ({
    status,
    label: JOB_STATUS_LABELS[status] ?? status,
    jobs: byStatus[status] ?? 0,
  }));
}

/** How a failure row is named: its status, with the reason the device gave when it gave one. */
export function reasonLabel(row: Dashboard["failures"]["by_reason"][number]): string {
  const status = row.status.replace("_", " ").toLowerCase();
  return row.reason ? `${status}: ${row.reason}` : status;
}

/** A whole percent of `part` in `whole` (0 when there is none). */
export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part * 100) / whole) : 0;
}
