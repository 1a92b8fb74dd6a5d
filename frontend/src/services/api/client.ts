// The operator API's errors (ApiError, from its {error, detail} bodies) and query strings, shared by the typed
// client (openapi.ts) and the artifact upload (artifacts.ts, XMLHttpRequest for its progress events).

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
