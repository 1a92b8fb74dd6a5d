import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { ErrorBanner, Loading, formatTime } from "../../components/ui";
import { useResource } from "../../components/useResource";
import { getGroup } from "../../services/api/groups";
import { canWrite } from "../../services/api/session";
import { CreateJobModal } from "../jobs/CreateJobModal";

export function GroupDetailPage() {
  const { groupId = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const group = useResource((signal) => getGroup(groupId, signal), [groupId]);

  const back = (
    <p>
      <Link to="/groups">← Groups</Link>
    </p>
  );
  if (group.error && !group.data) {
    return (
      <section>
        {back}
        <ErrorBanner error={group.error} />
      </section>
    );
  }
  if (!group.data) return <Loading what="group" />;
  const g = group.data;
  return (
    <section>
      {back}
      <header className="page-header">
        <h1>
          Group <code>{g.group_id}</code>
        </h1>
        {canWrite(session) && g.member_count > 0 && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create job
          </button>
        )}
      </header>
      <p>
        {g.name}
        {g.description ? ` — ${g.description}` : ""} · {g.member_count} members
      </p>
      {g.members.length > 0 && (
        <table className="table" aria-label="members">
          <thead>
            <tr>
              <th>Device</th>
              <th>Name</th>
              <th>Status</th>
              <th>Added</th>
            </tr>
          </thead>
          <tbody>
            {g.members.map((m) => (
              <tr key={m.device_id}>
                <td>
                  <Link to={`/devices/${encodeURIComponent(m.device_id)}`}>{m.device_id}</Link>
                </td>
                <td>{m.name}</td>
                <td>{m.status}</td>
                <td>{formatTime(m.added_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateJobModal
          initialTarget={{ type: "group", id: g.group_id }}
          onClose={() => setCreating(false)}
          onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)}
        />
      )}
    </section>
  );
}
