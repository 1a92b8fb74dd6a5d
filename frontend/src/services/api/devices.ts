// Devices and their twins on the operator API: the schema's types, and presence. Pages call the API through
// `$api` / `fetchClient` (openapi.ts).

import type { Schemas } from "./types";

export type Device = Schemas["DeviceOut"];
/** A device read alone: with its MQTT endpoint (docs/mqtt.md). */
export type DeviceDetail = Schemas["DeviceDetail"];
export type DeviceList = Schemas["DeviceList"];
export type DeviceCreate = Schemas["DeviceCreate"];
export type DeviceWithToken = Schemas["DeviceWithToken"];
export type Twin = Schemas["TwinOut"];
export type ProvisionToken = Schemas["ui_iot__routes__devices__TokenOut"];

/** Online means seen within the last five minutes (the operator API's own window) and not revoked. */
export const ONLINE_WINDOW_MS = 5 * 60 * 1000;

export function isOnline(device: Pick<Device, "status" | "last_seen_at">, now: number = Date.now()): boolean {
  if (device.status !== "ACTIVE" || !device.last_seen_at) return false;
  const seen = Date.parse(device.last_seen_at);
  return Number.isFinite(seen) && now - seen < ONLINE_WINDOW_MS;
}
