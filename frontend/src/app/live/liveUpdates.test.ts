import { QueryClient, QueryObserver } from "@tanstack/react-query";

import { loadSession, saveSession } from "../../services/api/session";
import { isLive, setLive, whenNotLive } from "./liveState";
import { startLiveUpdates } from "./liveUpdates";
import { LiveStreamRefused, type OpenStream, type StreamHandlers } from "./stream";

/** A fake server side: each connection the console opens, held open until the test ends it. */
class FakeStreams {
  connections: { handlers: StreamHandlers; end: (error?: Error) => void }[] = [];
  refuseWith: number | null = null;
  open: OpenStream = (_token, handlers, signal) =>
    new Promise<void>((resolve, reject) => {
      if (this.refuseWith !== null) return reject(new LiveStreamRefused(this.refuseWith));
      const end = (error?: Error) => (error ? reject(error) : resolve());
      signal.addEventListener("abort", () => end(new DOMException("aborted", "AbortError")));
      this.connections.push({ handlers, end });
      handlers.onOpen();
    });
  get last() {
    const c = this.connections.at(-1);
    if (!c) throw new Error("no connection");
    return c;
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pollingQuery(client: QueryClient, key: readonly unknown[], counter: { n: number }) {
  const observer = new QueryObserver(client, {
    queryKey: key,
    queryFn: async () => ++counter.n,
    refetchInterval: whenNotLive(40),
    staleTime: 0,
  });
  return observer.subscribe(() => undefined);
}

afterEach(() => setLive(false));

describe("startLiveUpdates", () => {
  it("stops polling while live, refetches what an event names, polls again when the stream drops, and resyncs on reconnect", async () => {
    const client = new QueryClient();
    const streams = new FakeStreams();
    const job = { n: 0 };
    const other = { n: 0 };
    const offJob = pollingQuery(client, ["get", "/customer/jobs/{job_id}", { params: { path: { job_id: "j1" } } }], job);
    const offOther = pollingQuery(client, ["get", "/customer/jobs/{job_id}", { params: { path: { job_id: "j2" } } }], other);
    await wait(150); // not live yet: both poll
    expect(job.n).toBeGreaterThanOrEqual(3);

    const stop = startLiveUpdates(client, "tok", { open: streams.open, backoffMs: [50] });
    await wait(60);
    expect(isLive()).toBe(true);
    const quiet = { job: job.n, other: other.n };
    await wait(200); // live: no polling
    expect(job.n - quiet.job).toBeLessThanOrEqual(1); // at most the fetch already under way
    expect(other.n - quiet.other).toBeLessThanOrEqual(1);

    const before = { job: job.n, other: other.n };
    streams.last.handlers.onEvent("jobs", '{"ids": ["j1"]}');
    await wait(100);
    expect(job.n).toBe(before.job + 1); // the named job refetched, once
    expect(other.n).toBe(before.other);

    streams.last.end(new TypeError("network error")); // the stream drops
    await wait(10);
    expect(isLive()).toBe(false);
    const dropped = job.n;
    await wait(45); // polling again (and refetched at once)
    expect(job.n).toBeGreaterThanOrEqual(dropped + 1);

    await wait(200); // the reconnection after the backoff: live again, and everything refetched
    expect(streams.connections).toHaveLength(2);
    expect(isLive()).toBe(true);
    const back = { job: job.n, other: other.n };
    streams.last.handlers.onEvent("resync", "{}");
    await wait(100);
    expect(job.n).toBe(back.job + 1);
    expect(other.n).toBe(back.other + 1);

    stop();
    await wait(10);
    expect(isLive()).toBe(false);
    offJob();
    offOther();
  });

  it("a 401 signs out instead of retrying", async () => {
    saveSession({ token: "tok", email: "a@b.c", role: "admin", tenantId: "t", expiresAt: Date.now() + 60_000 });
    const streams = new FakeStreams();
    streams.refuseWith = 401;
    let attempts = 0;
    const open: OpenStream = (...args) => {
      attempts += 1;
      return streams.open(...args);
    };
    const stop = startLiveUpdates(new QueryClient(), "tok", { open, backoffMs: [10] });
    await wait(80);
    expect(attempts).toBe(1);
    expect(loadSession()).toBeNull();
    stop();
  });

  it("a 503 (the server stopping) is retried with backoff, and a silent stream is taken for dead", async () => {
    const streams = new FakeStreams();
    streams.refuseWith = 503;
    const stop = startLiveUpdates(new QueryClient(), "tok", { open: streams.open, backoffMs: [20], silenceMs: 60 });
    await wait(50);
    expect(isLive()).toBe(false);
    streams.refuseWith = null;
    await wait(40);
    expect(isLive()).toBe(true);
    expect(streams.connections).toHaveLength(1);
    await wait(120); // no heartbeat for 60 ms: aborted, then opened again
    expect(streams.connections.length).toBeGreaterThanOrEqual(2);
    stop();
  });
});
