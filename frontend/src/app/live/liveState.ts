// Whether the console's live stream (server-sent events) is connected. While it is, pages do not poll:
// the stream's events invalidate what changed. When it drops, queries fall back to their polling interval.
// Use `whenNotLive(ms)` as a query's `refetchInterval` instead of a literal interval.

type Listener = (live: boolean) => void;

let live = false;
const listeners = new Set<Listener>();

export function isLive(): boolean {
  return live;
}

export function setLive(value: boolean): void {
  if (value === live) return;
  live = value;
  for (const listener of listeners) listener(live);
}

export function onLiveChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A `refetchInterval`: poll every `ms` only while the live stream is down. */
export function whenNotLive(ms: number): () => number | false {
  return () => (live ? false : ms);
}
