// Renders a component inside the console's providers (Mantine in test mode, a fresh query cache, a router).

import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router-dom";
import { vi } from "vitest";

/** `at`: the router's starting URL (for pages that read route params). */
export function renderWithProviders(ui: ReactElement, at: string = "/") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const result = render(
    <MantineProvider env="test">
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={[at]}>{ui}</MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
  return { ...result, client };
}

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** Replaces fetch with a table of canned operator-API answers, recording every call. */
export function fakeApi(routes: Record<string, (call: Call) => [number, unknown]>): Call[] {
  const calls: Call[] = [];
  // `input` is a URL (client.ts's request) or a Request (openapi-fetch's fetchClient and $api)
  vi.stubGlobal("fetch", async (input: string | Request, init: RequestInit = {}) => {
    const request = typeof input === "string" ? null : input;
    const url = new URL(request ? request.url : (input as string), "http://console.test");
    const text = request ? await request.text() : typeof init.body === "string" ? init.body : "";
    const call = {
      method: request ? request.method : (init.method ?? "GET"),
      path: url.pathname + url.search,
      body: text ? JSON.parse(text) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${url.pathname}`];
    const [status, body] = route ? route(call) : [404, { error: "not_found", detail: `no fake for ${call.path}` }];
    const answer = status === 204 ? null : JSON.stringify(body); // a 204 has no body
    return new Response(answer, { status, headers: { "Content-Type": "application/json" } });
  });
  return calls;
}
