// The devices list's selection: devices picked one by one (or a page at a time), or every device matching the
// list's filters ("select all N matching"), which the server resolves itself (docs/console.md, "Fleet work").

import type { Schemas } from "../../services/api/types";

export type DeviceFilter = { q?: string; status?: "ACTIVE" | "REVOKED" };

export type Selection =
  | { kind: "ids"; ids: readonly string[] }
  | { kind: "matching"; filter: DeviceFilter; total: number };

/** The most ids one request may list (the API's limit); a larger selection is "all matching". */
export const MAX_SELECTED_IDS = 10_000;

export const NOTHING: Selection = { kind: "ids", ids: [] };

export function isSelected(selection: Selection, deviceId: string): boolean {
  return selection.kind === "matching" || selection.ids.includes(deviceId);
}

export function selectedCount(selection: Selection): number {
  return selection.kind === "matching" ? selection.total : selection.ids.length;
}

/** Selects or unselects one device (a no-op while every matching device is selected). */
export function toggle(selection: Selection, deviceId: string): Selection {
  if (selection.kind === "matching") return selection;
  return selection.ids.includes(deviceId)
    ? { kind: "ids", ids: selection.ids.filter((id) => id !== deviceId) }
    : { kind: "ids", ids: [...selection.ids, deviceId] };
}

/** How much of the page is selected: what the header checkbox shows. */
export function pageState(selection: Selection, pageIds: readonly string[]): "all" | "some" | "none" {
  const n = pageIds.filter((id) => isSelected(selection, id)).length;
  return n === 0 ? "none" : n === pageIds.length ? "all" : "some";
}

/** The header checkbox: selects the whole page, or, when it is all selected already, unselects it. */
export function togglePage(selection: Selection, pageIds: readonly string[]): Selection {
  if (selection.kind === "matching") return NOTHING;
  if (pageState(selection, pageIds) === "all") {
    return { kind: "ids", ids: selection.ids.filter((id) => !pageIds.includes(id)) };
  }
  return { kind: "ids", ids: [...selection.ids, ...pageIds.filter((id) => !selection.ids.includes(id))] };
}

export function allMatching(filter: DeviceFilter, total: number): Selection {
  return { kind: "matching", filter: { ...filter }, total };
}

/** The selection as the API takes it (a group's new members, a job's target_devices). */
export function selectionBody(selection: Selection): Schemas["DeviceSelection"] {
  if (selection.kind === "ids") return { device_ids: [...selection.ids] };
  const { q, status } = selection.filter;
  return { matching: { q: q || null, status: status ?? null } };
}

/** In words, for the action bar and the dialogs: "3 devices", "all 120 devices matching “pump”, ACTIVE". */
export function describeSelection(selection: Selection): string {
  const n = selectedCount(selection);
  const devices = `${n} device${n === 1 ? "" : "s"}`;
  if (selection.kind === "ids") return devices;
  const { q, status } = selection.filter;
  const parts = [q ? `matching “${q}”` : "", status ?? ""].filter(Boolean);
  return `all ${devices}${parts.length ? ` ${parts.join(", ")}` : ""}`;
}
