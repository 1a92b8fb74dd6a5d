// One fetch wrapper for the operator API: bearer token, JSON in and out, errors as ApiError.

import { loadSession, saveSession } from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's other fields (e.g. `jobs` of an artifact delete's 409), when it had any. */
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The message to show for an error body of the API ({error, detail}) or anything else. */
export function errorMessage(status: number, body: unknown): { code: string; message: string } {
  if (body && typeof body === "object" && "detail" in body) {
    const { error, detail } = body as { error?: unknown; detail?: unknown };
    const message = typeof detail === "string" ? detail : JSON.stringify(detail);
    return { code: typeof error === "string" ? error : "error", message };
  }
  return { code: "error", message: `request failed (HTTP ${status})` };
}

/** An error body as an object, for the fields beside `error` and `detail`. */
export function errorBody(body: unknown): Record<string, unknown> | undefined {
  return body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  query?: Query;
  json?: unknown;
  form?: URLSearchParams;
  signal?: AbortSignal;
  anonymous?: boolean;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const session = opts.anonymous ? null : loadSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, opts.query), {
      method: opts.method ?? "GET",
      headers,
      body,
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "cannot reach the server; check your connection and retry");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && session) saveSession(null, { expired: true }); // expired or revoked: back to login
    const { code, message } = errorMessage(response.status, parsed);
    throw new ApiError(response.status, code, message, errorBody(parsed));
  }
  return parsed as T;
}
