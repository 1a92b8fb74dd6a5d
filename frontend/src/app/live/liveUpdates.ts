// The console's live updates: keeps one stream open while signed in, maps its events to query invalidations,
// and says whether it is live (liveState.ts), so that pages poll only while it is not. When the stream drops
// (server gone, network, a proxy), everything on screen is refetched once and pages poll again; it reconnects
// with backoff, and once back (or on "resync": the server's listener reconnected) everything is refetched,
// since changes may have been missed meanwhile. A stream that stays silent past `silenceMs` (the server sends a
// heartbeat every 15 s) is taken for dead.

import type { QueryClient } from "@tanstack/react-query";

import { saveSession } from "../../services/api/session";
import { invalidateFor, parseLiveEvent } from "./events";
import { setLive } from "./liveState";
import { LiveStreamRefused, openStream, type OpenStream } from "./stream";

export interface LiveOptions {
  /** Waits before each reconnection attempt, the last one repeated. */
  backoffMs?: readonly number[];
  silenceMs?: number;
  open?: OpenStream;
}

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Starts the live updates of a signed-in session; returns the function that stops them. */
export function startLiveUpdates(queryClient: QueryClient, token: string, options: LiveOptions = {}): () => void {
  const { backoffMs = BACKOFF_MS, silenceMs = 45_000, open = openStream } = options;
  const stopped = new AbortController();
  let failures = 0;
  let opened = false;
  let mine = false; // this run set the console live (another one may take over, as React's StrictMode does)

  const connectOnce = async () => {
    const connection = new AbortController();
    const abort = () => connection.abort();
    stopped.signal.addEventListener("abort", abort);
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const alive = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(abort, silenceMs);
    };
    alive();
    try {
      await open(
        token,
        {
          onOpen: () => {
            failures = 0;
            mine = true;
            setLive(true);
            if (opened) void queryClient.invalidateQueries(); // back: what changed meanwhile
            opened = true;
          },
          onActivity: alive,
          onEvent: (name, data) => {
            const event = parseLiveEvent(name, data);
            if (event === "resync") void queryClient.invalidateQueries();
            else if (event) void invalidateFor(queryClient, event);
          },
        },
        connection.signal,
      );
    } finally {
      clearTimeout(watchdog);
      stopped.signal.removeEventListener("abort", abort);
    }
  };

  const run = async () => {
    while (!stopped.signal.aborted) {
      try {
        await connectOnce();
      } catch (error) {
        if (error instanceof LiveStreamRefused && error.status === 401 && !stopped.signal.aborted) {
          saveSession(null, { expired: true }); // the session no longer holds: signed out, as any 401
          break;
        }
      }
      if (stopped.signal.aborted) break;
      if (mine) {
        mine = false;
        setLive(false);
        void queryClient.invalidateQueries(); // refetch now; pages poll until the stream is back
      }
      await sleep(backoffMs[Math.min(failures, backoffMs.length - 1)] ?? 1_000, stopped.signal);
      failures += 1;
    }
    if (mine) setLive(false);
  };
  void run();
  return () => stopped.abort();
}
