import { Link, useSearchParams } from "react-router-dom";

import { ErrorBanner, Loading, Pager, formatTime } from "../../components/ui";
import { useResource } from "../../components/useResource";
import { listDevices } from "../../services/api/devices";

const PAGE = 50;

export function DevicesPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const offset = Number(params.get("offset") ?? 0) || 0;
  const devices = useResource((signal) => listDevices({ q: q || undefined, limit: PAGE, offset }, signal), [q, offset]);

  return (
    <section>
      <header className="page-header">
        <h1>Devices</h1>
      </header>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const value = String(new FormData(e.currentTarget).get("q") ?? "").trim();
          setParams(value ? { q: value } : {});
        }}
      >
        <input name="q" defaultValue={q} placeholder="search id or name" aria-label="search devices" maxLength={100} />
        <button type="submit">Search</button>
      </form>
      <ErrorBanner error={devices.error} />
      {devices.loading && !devices.data && <Loading what="devices" />}
      {devices.data && devices.data.devices.length === 0 && <p className="muted">No devices found.</p>}
      {devices.data && devices.data.devices.length > 0 && (
        <table className="table" aria-label="devices">
          <thead>
            <tr>
              <th>Device</th>
              <th>Name</th>
              <th>Status</th>
              <th>Online</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {devices.data.devices.map((d) => (
              <tr key={d.device_id}>
                <td>
                  <Link to={`/devices/${encodeURIComponent(d.device_id)}`}>{d.device_id}</Link>
                </td>
                <td>{d.name}</td>
                <td>{d.status}</td>
                <td>{d.online ? "online" : "offline"}</td>
                <td>{formatTime(d.last_seen_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {devices.data && (
        <Pager
          total={devices.data.total}
          limit={PAGE}
          offset={offset}
          onChange={(o) => setParams({ ...(q ? { q } : {}), offset: String(o) })}
        />
      )}
    </section>
  );
}
