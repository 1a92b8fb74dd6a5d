// Devices: search, status filter, paging, online/offline from last seen, device creation and CSV import, and
// fleet work on a selection (a page's devices, or all matching the filters): add to a group, create a job.

import { Anchor, Button, Checkbox, Group, Select, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { keepPreviousData } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { whenNotLive } from "../../app/live/liveState";
import { $api } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { DEVICE_STATUSES, statusFrom } from "../../services/api/statuses";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatTime, timeAgo } from "../common/format";
import { useListParams } from "../common/useListParams";
import { CreateDeviceModal } from "./CreateDeviceModal";
import { DeviceStatusBadges } from "./DeviceStatusBadges";
import { ImportDevicesModal } from "./ImportDevicesModal";
import { SelectionBar } from "./SelectionBar";
import { NOTHING, isSelected, pageState, toggle, togglePage, type Selection } from "./selection";

const PAGE = 25;

export function DevicesPage() {
  const session = useSession();
  const writer = canWrite(session);
  const { params, text, setText, search: q, offset, update } = useListParams("q");
  const status = statusFrom(DEVICE_STATUSES, params.get("status"));
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [selection, setSelection] = useState<Selection>(NOTHING);
  // a selection is of the devices the filters show: new filters start a new one
  useEffect(() => setSelection(NOTHING), [q, status]);

  const query = { q: q || undefined, status, limit: PAGE, offset };
  const devices = $api.useQuery(
    "get",
    "/customer/devices",
    { params: { query } },
    { placeholderData: keepPreviousData, refetchInterval: whenNotLive(30_000) },
  );

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Devices</Title>
        {writer && (
          <Group gap="xs">
            <Button variant="default" onClick={() => setImporting(true)}>
              Import CSV
            </Button>
            <Button onClick={() => setCreating(true)}>Create device</Button>
          </Group>
        )}
      </Group>
      <Group mb="sm" align="flex-end">
        <TextInput
          label="Search"
          placeholder="device id or name"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          w={260}
        />
        <Select
          label="Status"
          placeholder="any"
          clearable
          data={[...DEVICE_STATUSES]}
          value={status ?? null}
          onChange={(v) => update("status", v)}
          w={160}
        />
      </Group>
      {writer && devices.data && (
        <SelectionBar
          selection={selection}
          onChange={setSelection}
          filter={{ q: q || undefined, status }}
          total={devices.data.total}
          pageIds={devices.data.devices.map((d) => d.device_id)}
        />
      )}
      <QueryState what="devices" data={devices.data} error={devices.error} onRetry={() => void devices.refetch()}>
        {(data) => {
          const pageIds = data.devices.map((d) => d.device_id);
          const onPage = pageState(selection, pageIds);
          const stale = devices.isPlaceholderData; // the previous filter's page, shown until the new one comes
          return data.devices.length === 0 ? (
            <Empty>{q || status ? "No device matches." : "No devices yet: create one."}</Empty>
          ) : (
            <>
              <Table striped highlightOnHover aria-label="devices" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    {writer && (
                      <Table.Th w={40}>
                        <Checkbox
                          aria-label="Select every device on this page"
                          checked={onPage === "all"}
                          indeterminate={onPage === "some"}
                          disabled={stale}
                          onChange={() => setSelection((s) => togglePage(s, pageIds))}
                        />
                      </Table.Th>
                    )}
                    <Table.Th>Device</Table.Th>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Last seen</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.devices.map((d) => (
                    <Table.Tr key={d.device_id} data-device-id={d.device_id}>
                      {writer && (
                        <Table.Td>
                          <Checkbox
                            aria-label={`Select ${d.device_id}`}
                            checked={isSelected(selection, d.device_id)}
                            disabled={stale || selection.kind === "matching"}
                            onChange={() => setSelection((s) => toggle(s, d.device_id))}
                          />
                        </Table.Td>
                      )}
                      <Table.Td>
                        <Anchor component={Link} to={`/devices/${encodeURIComponent(d.device_id)}`} ff="monospace" size="sm">
                          {d.device_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{d.name || <Text c="dimmed">—</Text>}</Table.Td>
                      <Table.Td>
                        <DeviceStatusBadges device={d} />
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>
                        <Tooltip label={formatTime(d.last_seen_at)} disabled={!d.last_seen_at}>
                          <span>{timeAgo(d.last_seen_at)}</span>
                        </Tooltip>
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(d.created_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager total={data.total} limit={PAGE} offset={offset} onChange={(o) => update("offset", String(o))} label="devices" />
            </>
          );
        }}
      </QueryState>
      <CreateDeviceModal opened={creating} onClose={() => setCreating(false)} />
      <ImportDevicesModal opened={importing} onClose={() => setImporting(false)} />
    </>
  );
}
