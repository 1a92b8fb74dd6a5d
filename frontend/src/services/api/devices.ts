// Devices and their twins on the operator API.

import { request } from "./client";
import type { Schemas } from "./types";

export type Device = Schemas["DeviceOut"];
/** A device read alone: with its MQTT endpoint (docs/mqtt.md). */
export type DeviceDetail = Schemas["DeviceDetail"];
export type DeviceList = Schemas["DeviceList"];
export type DeviceCreate = Schemas["DeviceCreate"];
export type DeviceWithToken = Schemas["DeviceWithToken"];
export type Twin = Schemas["TwinOut"];
export type ProvisionToken = Schemas["ui_iot__routes__devices__TokenOut"];

export type DeviceListParams = { q?: string; status?: Device["status"]; limit?: number; offset?: number };

const devicePath = (deviceId: string) => `/customer/devices/${encodeURIComponent(deviceId)}`;

export function listDevices(params: DeviceListParams = {}, signal?: AbortSignal): Promise<DeviceList> {
  return request<DeviceList>("/customer/devices", { query: params, signal });
}

export function getDevice(deviceId: string, signal?: AbortSignal): Promise<DeviceDetail> {
  return request<DeviceDetail>(devicePath(deviceId), { signal });
}

export function createDevice(body: DeviceCreate): Promise<DeviceWithToken> {
  return request<DeviceWithToken>("/customer/devices", { method: "POST", json: body });
}

export function revokeDevice(deviceId: string): Promise<Device> {
  return request<Device>(`${devicePath(deviceId)}/revoke`, { method: "POST" });
}

export function rotateToken(deviceId: string): Promise<ProvisionToken> {
  return request<ProvisionToken>(`${devicePath(deviceId)}/rotate-token`, { method: "POST" });
}

export function getTwin(deviceId: string, signal?: AbortSignal): Promise<Twin> {
  return request<Twin>(`${devicePath(deviceId)}/twin`, { signal });
}

export function patchTwin(deviceId: string, body: Schemas["TwinPatch"]): Promise<Twin> {
  return request<Twin>(`${devicePath(deviceId)}/twin`, { method: "PATCH", json: body });
}

/** Online means seen within the last five minutes (the operator API's own window) and not revoked. */
export const ONLINE_WINDOW_MS = 5 * 60 * 1000;

export function isOnline(device: Pick<Device, "status" | "last_seen_at">, now: number = Date.now()): boolean {
  if (device.status !== "ACTIVE" || !device.last_seen_at) return false;
  const seen = Date.parse(device.last_seen_at);
  return Number.isFinite(seen) && now - seen < ONLINE_WINDOW_MS;
}
