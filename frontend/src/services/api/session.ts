// The logged-in operator, kept in localStorage so a reload or a new tab stays signed in.

export type Role = "admin" | "operator" | "viewer";

export interface Session {
  token: string;
  email: string;
  role: Role;
  tenantId: string;
  expiresAt: number; // epoch milliseconds
}

const KEY = "iotcloud.session";
type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();

export function loadSession(now: number = Date.now()): Session | null {
  const raw = localStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Session;
    if (typeof parsed.token !== "string" || parsed.expiresAt <= now) {
      localStorage.removeItem(KEY);
      return null;
    }
    return parsed;
  } catch {
    localStorage.removeItem(KEY);
    return null;
  }
}

let endedByServer = false;

/** True when the last sign-out came from the API refusing the token (expired or revoked). */
export function sessionExpired(): boolean {
  return endedByServer;
}

export function saveSession(session: Session | null, opts: { expired?: boolean } = {}): void {
  endedByServer = session === null && !!opts.expired;
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  listeners.forEach((fn) => fn(session));
}

export function onSessionChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function canWrite(session: Session | null): boolean {
  return session !== null && (session.role === "admin" || session.role === "operator");
}
