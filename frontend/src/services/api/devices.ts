import { request } from "./client";

export interface Device {
  device_id: string;
  name: string;
  attributes: Record<string, unknown>;
  status: "ACTIVE" | "REVOKED";
  online: boolean;
  last_seen_at: string | null;
  desired_version: number;
  reported_version: number;
  created_at: string;
  updated_at: string;
}

export interface DeviceList {
  devices: Device[];
  total: number;
  limit: number;
  offset: number;
}

export interface Twin {
  device_id: string;
  desired: Record<string, unknown>;
  reported: Record<string, unknown>;
  desired_version: number;
  reported_version: number;
  delta: Record<string, unknown>;
  updated_at: string;
}

export function listDevices(
  params: { q?: string; status?: Device["status"]; limit?: number; offset?: number } = {},
  signal?: AbortSignal,
): Promise<DeviceList> {
  return request<DeviceList>("/customer/devices", { query: params, signal });
}

export function getDevice(deviceId: string, signal?: AbortSignal): Promise<Device> {
  return request<Device>(`/customer/devices/${encodeURIComponent(deviceId)}`, { signal });
}

export function getTwin(deviceId: string, signal?: AbortSignal): Promise<Twin> {
  return request<Twin>(`/customer/devices/${encodeURIComponent(deviceId)}/twin`, { signal });
}
