import { NavLink, Navigate, Outlet, useLocation } from "react-router-dom";

import { saveSession } from "../services/api/session";
import { useSession } from "./SessionContext";

export function Layout() {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">iotcloud</strong>
        <nav aria-label="main">
          <NavLink to="/devices">Devices</NavLink>
          <NavLink to="/groups">Groups</NavLink>
          <NavLink to="/jobs">Jobs</NavLink>
        </nav>
        <span className="who">
          {session.email} · {session.role} · tenant {session.tenantId}
        </span>
        <button type="button" onClick={() => saveSession(null)}>
          Sign out
        </button>
      </header>
      <main>
        <Outlet />
      </main>
    </div>
  );
}
