export function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString();
}

/** "3 min ago", "2 h ago", ... for a past ISO time; "never" without one. */
export function timeAgo(value: string | null | undefined, now: number = Date.now()): string {
  if (!value) return "never";
  const t = Date.parse(value);
  if (!Number.isFinite(t)) return value;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A byte count for people: "512 B", "1.5 KiB", "2.0 GiB" (binary units, as the server's limits). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
