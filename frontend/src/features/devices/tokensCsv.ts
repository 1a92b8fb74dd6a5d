// The imported devices' provision tokens as a CSV file, built in the browser (the tokens are in the import's
// answer only: the server keeps their hashes).

import { ApiError } from "../../services/api/client";
import type { Schemas } from "../../services/api/types";

export type ImportedDevice = Schemas["ImportedDevice"];
export type CsvProblem = Schemas["CsvProblem"];

/** One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function tokensCsv(devices: readonly ImportedDevice[]): string {
  const rows = [["device_id", "name", "provision_token"]];
  for (const d of devices) rows.push([d.device_id, d.name, d.provision_token ?? ""]);
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** Offers `text` as a file download (the browser's save dialog or downloads folder). */
export function downloadText(filename: string, text: string, type = "text/csv"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The problems of a refused file (422 `invalid_csv`), by line; empty for any other error. */
export function csvProblems(error: unknown): CsvProblem[] {
  if (!(error instanceof ApiError) || error.code !== "invalid_csv") return [];
  const errors = error.body?.errors;
  return Array.isArray(errors) ? (errors as CsvProblem[]) : [];
}

/** The ids a 409 says exist already. */
export function existingIds(error: unknown): string[] {
  if (!(error instanceof ApiError) || error.status !== 409) return [];
  const ids = error.body?.existing_device_ids;
  return Array.isArray(ids) ? ids.map(String) : [];
}
