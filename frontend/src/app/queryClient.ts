import { QueryClient } from "@tanstack/react-query";

import { ApiError } from "../services/api/client";

/** Server state cache: client errors (4xx) are final, anything else is retried once. */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 1_000,
        retry: (failures, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failures < 1,
      },
      mutations: { retry: false },
    },
  });
}
