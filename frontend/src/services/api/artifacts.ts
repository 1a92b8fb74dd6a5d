// Artifacts (OTA files): the upload with progress (XMLHttpRequest: fetch reports no upload progress), the name
// rule and the error texts. Listing, inspecting and deleting go through the typed client ($api).

import { ApiError, errorBody, errorMessage, withQuery } from "./client";
import { loadSession, saveSession } from "./session";
import type { Schemas } from "./types";

export type Artifact = Schemas["ArtifactOut"];
export type ArtifactDetail = Schemas["ArtifactDetail"];
export type ArtifactJob = Schemas["ArtifactJob"];
export type ArtifactList = Schemas["ArtifactList"];

/** The API's rule for a name (`NAME_PATTERN` of services/shared/artifacts/service.py). */
export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The job-document placeholder a device receives as a signed download URL of artifact `name`. */
export const artifactPlaceholder = (name: string) => `\${iotcloud:artifact-url:${name}}`;

/** The job ids a delete's 409 (`DELETE /customer/artifacts/{name}`) names (the active jobs referencing the artifact). */
export function jobsInUse(error: unknown): string[] {
  const jobs = error instanceof ApiError && error.status === 409 ? error.body?.jobs : undefined;
  return Array.isArray(jobs) ? jobs.filter((j): j is string => typeof j === "string") : [];
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/**
 * Uploads `file` as the raw body of `POST /customer/artifacts?name=NAME`. XMLHttpRequest rather than fetch:
 * only its `upload` events report the bytes sent. Errors are ApiErrors as `request` throws them (a 401
 * signs out the same way); an abort through `signal` rejects with an AbortError DOMException.
 */
export function uploadArtifact(name: string, file: Blob, opts: UploadOptions = {}): Promise<Artifact> {
  return new Promise<Artifact>((resolve, reject) => {
    const session = loadSession();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", withQuery("/customer/artifacts", { name }));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    if (session) xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.upload.onprogress = (e) => opts.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    const aborted = () => reject(new DOMException("the upload was canceled", "AbortError"));
    xhr.onabort = aborted;
    xhr.onerror = () =>
      reject(new ApiError(0, "network", "the upload was interrupted: the server closed the connection or is unreachable"));
    xhr.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        parsed = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(parsed as Artifact);
        return;
      }
      if (xhr.status === 401 && session) saveSession(null, { expired: true });
      const { code, message } = errorMessage(xhr.status, parsed);
      reject(new ApiError(xhr.status, code, message, errorBody(parsed)));
    };
    if (opts.signal?.aborted) {
      aborted();
      return;
    }
    opts.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/** What to tell the operator when an upload fails, by the API's status. */
export function uploadErrorText(error: unknown, name: string): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  switch (error.status) {
    case 409:
      return `An artifact named "${name}" already exists: choose another name, or delete the existing one first.`;
    case 413:
      return `The file is larger than the server accepts (${error.message}; the limit is IOTCLOUD_ARTIFACT_MAX_BYTES). Nothing was stored.`;
    case 422:
      return `The name "${name}" is not allowed: letters, digits, '.', '_' or '-', starting with a letter or digit, at most 128. (${error.message})`;
    case 403:
      return `Your role may not upload artifacts. ${error.message}`;
    default:
      return error.message;
  }
}
