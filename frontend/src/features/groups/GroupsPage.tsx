import { Link } from "react-router-dom";

import { ErrorBanner, Loading, formatTime } from "../../components/ui";
import { useResource } from "../../components/useResource";
import { listGroups } from "../../services/api/groups";

export function GroupsPage() {
  const groups = useResource((signal) => listGroups({ limit: 500 }, signal), []);
  return (
    <section>
      <header className="page-header">
        <h1>Groups</h1>
      </header>
      <ErrorBanner error={groups.error} />
      {groups.loading && !groups.data && <Loading what="groups" />}
      {groups.data && groups.data.groups.length === 0 && <p className="muted">No groups yet.</p>}
      {groups.data && groups.data.groups.length > 0 && (
        <table className="table" aria-label="groups">
          <thead>
            <tr>
              <th>Group</th>
              <th>Name</th>
              <th>Members</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {groups.data.groups.map((g) => (
              <tr key={g.group_id}>
                <td>
                  <Link to={`/groups/${encodeURIComponent(g.group_id)}`}>{g.group_id}</Link>
                </td>
                <td>{g.name}</td>
                <td>{g.member_count}</td>
                <td>{formatTime(g.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
