// One group: members (add by searching devices, remove), delete, and Create Job aimed at it.

import { Alert, Anchor, Button, Card, Group, Modal, MultiSelect, Stack, Table, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { whenNotLive } from "../../app/live/liveState";
import type { GroupDetail } from "../../services/api/groups";
import { $api, apiError, pathKey } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { Empty, QueryState } from "../common/QueryState";
import { formatTime, timeAgo } from "../common/format";
import { CreateJobModal } from "../jobs/CreateJobModal";

export function GroupDetailPage() {
  const { groupId = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const ofGroup = { params: { path: { group_id: groupId } } };
  const group = $api.useQuery("get", "/customer/groups/{group_id}", ofGroup, { refetchInterval: whenNotLive(30_000) });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: $api.queryOptions("get", "/customer/groups/{group_id}", ofGroup).queryKey });
    void queryClient.invalidateQueries({ queryKey: pathKey("/customer/groups") });
    // the job form's group picker and reach (features/jobs, on the hand-written keys)
    void queryClient.invalidateQueries({ queryKey: pathKey("/customer/groups") });
    void queryClient.invalidateQueries({ queryKey: pathKey("/customer/groups/{group_id}") });
  };
  const remove = $api.useMutation("delete", "/customer/groups/{group_id}/members/{device_id}", {
    onSuccess: (_, { params }) => notifications.show({ message: `${params.path.device_id} removed from ${groupId}` }),
    onSettled: refresh,
  });
  const del = $api.useMutation("delete", "/customer/groups/{group_id}", {
    onSuccess: () => {
      refresh();
      navigate("/groups");
    },
  });
  const writer = canWrite(session);

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/groups" size="sm">
        ← Groups
      </Anchor>
      <QueryState what="group" data={group.data} error={group.error} onRetry={() => void group.refetch()}>
        {(g) => (
          <>
            <Group justify="space-between">
              <div>
                <Title order={2}>Group {g.group_id}</Title>
                <Text c="dimmed" size="sm">
                  {g.name}
                  {g.description ? ` — ${g.description}` : ""} · {g.member_count} members · created {formatTime(g.created_at)}
                </Text>
              </div>
              {writer && (
                <Group gap="xs">
                  <Button onClick={() => setCreating(true)}>Create job</Button>
                  <Button color="red" variant="light" onClick={() => setDeleting(true)}>
                    Delete group
                  </Button>
                </Group>
              )}
            </Group>
            {writer && <AddMembers group={g} onAdded={refresh} />}
            <Card withBorder>
              <Title order={4} mb="xs">
                Members
              </Title>
              {remove.error && (
                <Alert color="red" role="alert" mb="sm">
                  {apiError(remove.error)?.message}
                </Alert>
              )}
              {g.members.length === 0 ? (
                <Empty>No members yet.</Empty>
              ) : (
                <Table striped aria-label="members" verticalSpacing="xs">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Device</Table.Th>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Status</Table.Th>
                      <Table.Th>Last seen</Table.Th>
                      <Table.Th>Added</Table.Th>
                      {writer && <Table.Th />}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {g.members.map((m) => (
                      <Table.Tr key={m.device_id} data-device-id={m.device_id}>
                        <Table.Td>
                          <Anchor component={Link} to={`/devices/${encodeURIComponent(m.device_id)}`} ff="monospace" size="sm">
                            {m.device_id}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>{m.name || "—"}</Table.Td>
                        <Table.Td>{m.status}</Table.Td>
                        <Table.Td>{timeAgo(m.last_seen_at)}</Table.Td>
                        <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(m.added_at)}</Table.Td>
                        {writer && (
                          <Table.Td>
                            <Button
                              size="compact-xs"
                              variant="subtle"
                              color="red"
                              loading={remove.isPending && remove.variables.params.path.device_id === m.device_id}
                              onClick={() => remove.mutate({ params: { path: { group_id: groupId, device_id: m.device_id } } })}
                              aria-label={`Remove ${m.device_id}`}
                            >
                              Remove
                            </Button>
                          </Table.Td>
                        )}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Card>
            <CreateJobModal
              opened={creating}
              initialTarget={{ type: "group", id: g.group_id }}
              onClose={() => setCreating(false)}
              onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)}
            />
            <Modal opened={deleting} onClose={() => setDeleting(false)} title={`Delete group ${g.group_id}?`} centered>
              <Stack>
                <Text size="sm">The group and its memberships go; the devices and existing jobs stay.</Text>
                {del.error && (
                  <Alert color="red" role="alert">
                    {apiError(del.error)?.message}
                  </Alert>
                )}
                <Group justify="flex-end">
                  <Button variant="default" onClick={() => setDeleting(false)}>
                    Keep it
                  </Button>
                  <Button color="red" loading={del.isPending} onClick={() => del.mutate(ofGroup)}>
                    Delete group
                  </Button>
                </Group>
              </Stack>
            </Modal>
          </>
        )}
      </QueryState>
    </Stack>
  );
}

function AddMembers({ group, onAdded }: { group: GroupDetail; onAdded: () => void }) {
  const [selected, setSelected] = useState<string[]>([]);
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const devices = $api.useQuery(
    "get",
    "/customer/devices",
    { params: { query: { q: q || undefined, limit: 20 } } },
    { placeholderData: keepPreviousData },
  );
  const members = new Set(group.members.map((m) => m.device_id));
  const options = (devices.data?.devices ?? [])
    .filter((d) => !members.has(d.device_id) || selected.includes(d.device_id))
    .map((d) => ({ value: d.device_id, label: d.name && d.name !== d.device_id ? `${d.device_id} · ${d.name}` : d.device_id }));
  for (const id of selected) if (!options.some((o) => o.value === id)) options.push({ value: id, label: id });
  const add = $api.useMutation("post", "/customer/groups/{group_id}/members", {
    onSuccess: (out) => {
      notifications.show({ color: "teal", message: `${out.added} device${out.added === 1 ? "" : "s"} added` });
      setSelected([]);
      onAdded();
    },
  });
  return (
    <Card withBorder>
      <Group align="flex-end">
        <MultiSelect
          label="Add devices"
          placeholder="Search devices"
          searchable
          data={options}
          value={selected}
          onChange={setSelected}
          searchValue={search}
          onSearchChange={setSearch}
          nothingFoundMessage={devices.isFetching ? "Searching…" : "No device to add"}
          style={{ flex: 1 }}
        />
        <Button disabled={selected.length === 0} loading={add.isPending} onClick={() => add.mutate({ params: { path: { group_id: group.group_id } }, body: { device_ids: selected } })}>
          Add
        </Button>
      </Group>
      {(add.error || devices.error) && (
        <Alert color="red" role="alert" mt="sm">
          {apiError(add.error ?? devices.error)?.message}
        </Alert>
      )}
    </Card>
  );
}
