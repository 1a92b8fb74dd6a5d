// The typed operator API: every request is checked against the committed OpenAPI spec (schema.ts).
// `fetchClient` is openapi-fetch for imperative calls (mutations); `$api` is openapi-react-query, whose
// query keys are `[method, path, init]` and derived from the call, never written by hand.
// Errors surface as ApiError (status, code, message, body), as with `request` in client.ts.

import createFetchClient, { type Middleware } from "openapi-fetch";
import createClient from "openapi-react-query";

import { ApiError, errorBody, errorMessage } from "./client";
import type { paths } from "./schema";
import { loadSession, saveSession } from "./session";

const auth: Middleware = {
  onRequest({ request }) {
    const session = loadSession();
    if (session && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${session.token}`);
    }
    request.headers.set("Accept", "application/json");
    return request;
  },
  async onResponse({ response, request }) {
    if (response.ok) return response;
    const text = await response.clone().text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (response.status === 401 && request.headers.has("Authorization")) saveSession(null, { expired: true });
    const { code, message } = errorMessage(response.status, parsed);
    throw new ApiError(response.status, code, message, errorBody(parsed));
  },
  onError({ error }) {
    if (error instanceof ApiError) return error;
    if (error instanceof DOMException && error.name === "AbortError") return error;
    return new ApiError(0, "network", "cannot reach the server; check your connection and retry");
  },
};

export const fetchClient = createFetchClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  // Looked up per call, so that tests stubbing the global fetch are seen.
  fetch: (input: Request) => globalThis.fetch(input),
});
fetchClient.use(auth);

export const $api = createClient(fetchClient);

export type ApiPath = keyof paths;

/**
 * The key prefix of every cached GET of `path` (any params): what a change to that resource invalidates.
 * openapi-react-query keys are `[method, path, init]`, and TanStack matches keys by prefix.
 */
export function pathKey(path: ApiPath): readonly ["get", ApiPath] {
  return ["get", path] as const;
}

/**
 * A `$api` hook's error as it is at run time: the ApiError the middleware threw (openapi-react-query types
 * it as the spec's error body). null when there is none.
 */
export function apiError(error: unknown): ApiError | null {
  if (error === null || error === undefined) return null;
  return error instanceof ApiError ? error : new ApiError(0, "unknown", error instanceof Error ? error.message : String(error));
}
