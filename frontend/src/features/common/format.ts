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
