// Devices: search, status filter, paging, online/offline from last seen, and device creation.

import { Anchor, Button, Group, Select, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { listDevices } from "../../services/api/devices";
import { queryKeys } from "../../services/api/queryKeys";
import { canWrite } from "../../services/api/session";
import { DEVICE_STATUSES, statusFrom } from "../../services/api/statuses";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatTime, timeAgo } from "../common/format";
import { useListParams } from "../common/useListParams";
import { CreateDeviceModal } from "./CreateDeviceModal";
import { DeviceStatusBadges } from "./DeviceStatusBadges";

const PAGE = 25;

export function DevicesPage() {
  const session = useSession();
  const { params, text, setText, search: q, offset, update } = useListParams("q");
  const status = statusFrom(DEVICE_STATUSES, params.get("status"));
  const [creating, setCreating] = useState(false);

  const listParams = { q: q || undefined, status, limit: PAGE, offset };
  const devices = useQuery({
    queryKey: queryKeys.devices.list(listParams),
    queryFn: ({ signal }) => listDevices(listParams, signal),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Devices</Title>
        {canWrite(session) && <Button onClick={() => setCreating(true)}>Create device</Button>}
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
      <QueryState what="devices" data={devices.data} error={devices.error} onRetry={() => void devices.refetch()}>
        {(data) =>
          data.devices.length === 0 ? (
            <Empty>{q || status ? "No device matches." : "No devices yet: create one."}</Empty>
          ) : (
            <>
              <Table striped highlightOnHover aria-label="devices" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
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
          )
        }
      </QueryState>
      <CreateDeviceModal opened={creating} onClose={() => setCreating(false)} />
    </>
  );
}
