// One device: facts, twin, its job executions, and "Create job" aimed at it.

import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { ErrorBanner, JsonView, Loading, formatTime } from "../../components/ui";
import { useResource } from "../../components/useResource";
import { getDevice, getTwin } from "../../services/api/devices";
import { deviceJobs } from "../../services/api/jobs";
import { canWrite } from "../../services/api/session";
import { CreateJobModal } from "../jobs/CreateJobModal";
import { StatusBadge } from "../jobs/StatusBadge";

export function DeviceDetailPage() {
  const { deviceId = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const device = useResource((signal) => getDevice(deviceId, signal), [deviceId]);
  const twin = useResource((signal) => getTwin(deviceId, signal), [deviceId]);
  const jobs = useResource((signal) => deviceJobs(deviceId, { limit: 50 }, signal), [deviceId]);

  if (device.error && !device.data) {
    return (
      <section>
        <p>
          <Link to="/devices">← Devices</Link>
        </p>
        <ErrorBanner error={device.error} />
      </section>
    );
  }
  if (!device.data) return <Loading what="device" />;
  const d = device.data;

  return (
    <section>
      <p>
        <Link to="/devices">← Devices</Link>
      </p>
      <header className="page-header">
        <h1>
          Device <code>{d.device_id}</code>
        </h1>
        {canWrite(session) && d.status === "ACTIVE" && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create job
          </button>
        )}
      </header>
      <dl className="facts">
        <dt>Name</dt>
        <dd>{d.name || "—"}</dd>
        <dt>Status</dt>
        <dd>{d.status}</dd>
        <dt>Online</dt>
        <dd>{d.online ? "online" : "offline"}</dd>
        <dt>Last seen</dt>
        <dd>{formatTime(d.last_seen_at)}</dd>
        <dt>Created</dt>
        <dd>{formatTime(d.created_at)}</dd>
      </dl>
      <h2>Attributes</h2>
      <JsonView value={d.attributes} />

      <h2>Jobs</h2>
      <ErrorBanner error={jobs.error} />
      {jobs.data && jobs.data.executions.length === 0 && <p className="muted">No jobs for this device.</p>}
      {jobs.data && jobs.data.executions.length > 0 && (
        <table className="table" aria-label="device jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th>Type</th>
              <th>Execution</th>
              <th>Job status</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data.executions.map((x) => (
              <tr key={x.job_id}>
                <td>
                  <Link to={`/jobs/${encodeURIComponent(x.job_id)}`}>{x.job_id}</Link>
                </td>
                <td>{x.document_type}</td>
                <td>
                  <StatusBadge status={x.status} />
                </td>
                <td>
                  <StatusBadge status={x.job_status} />
                </td>
                <td>{formatTime(x.last_updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Twin</h2>
      <ErrorBanner error={twin.error} />
      {twin.data && (
        <div className="twin">
          <div>
            <h3>Desired (v{twin.data.desired_version})</h3>
            <JsonView value={twin.data.desired} />
          </div>
          <div>
            <h3>Reported (v{twin.data.reported_version})</h3>
            <JsonView value={twin.data.reported} />
          </div>
          <div>
            <h3>Delta</h3>
            <JsonView value={twin.data.delta} />
          </div>
        </div>
      )}
      {creating && (
        <CreateJobModal
          initialTarget={{ type: "device", id: d.device_id }}
          onClose={() => setCreating(false)}
          onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)}
        />
      )}
    </section>
  );
}
