// One connection to the live stream, GET /customer/events. The console authenticates with a bearer token, which
// EventSource cannot send: this is a streaming fetch, its body parsed by eventsource-parser.

import { createParser } from "eventsource-parser";

export const EVENTS_PATH = "/customer/events";

/** The stream was refused (`status`: 401 the session no longer holds, 503 the server is stopping, ...). */
export class LiveStreamRefused extends Error {
  constructor(readonly status: number) {
    super(`live stream refused: HTTP ${status}`);
  }
}

export interface StreamHandlers {
  /** The server accepted the stream. */
  onOpen: () => void;
  /** An event (`name` is its `event:` field). */
  onEvent: (name: string, data: string) => void;
  /** Anything came, a heartbeat included: the connection is alive. */
  onActivity: () => void;
}

export type OpenStream = (token: string, handlers: StreamHandlers, signal: AbortSignal) => Promise<void>;

/** Reads the stream until the server ends it; rejects when it cannot open or the connection fails. */
export const openStream: OpenStream = async (token, handlers, signal) => {
  const response = await globalThis.fetch(EVENTS_PATH, {
    headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
    cache: "no-store",
    signal,
  });
  if (!response.ok || !response.body) throw new LiveStreamRefused(response.status);
  handlers.onOpen();
  const parser = createParser({
    onEvent: (event) => handlers.onEvent(event.event ?? "message", event.data),
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      handlers.onActivity();
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.releaseLock();
  }
};
