// Groups: search, list with member counts, create.

import { Alert, Anchor, Button, Group, Modal, Stack, Table, TextInput, Textarea, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { whenNotLive } from "../../app/live/liveState";
import { $api, apiError, pathKey } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatTime } from "../common/format";

const PAGE = 50;
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function GroupsPage() {
  const session = useSession();
  const [text, setText] = useState("");
  const [q] = useDebouncedValue(text.trim(), 300);
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const groups = $api.useQuery(
    "get",
    "/customer/groups",
    { params: { query: { q: q || undefined, limit: PAGE, offset } } },
    { placeholderData: keepPreviousData, refetchInterval: whenNotLive(30_000) },
  );
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Groups</Title>
        {canWrite(session) && <Button onClick={() => setCreating(true)}>Create group</Button>}
      </Group>
      <TextInput
        label="Search"
        placeholder="group id or name"
        value={text}
        onChange={(e) => {
          setText(e.currentTarget.value);
          setOffset(0);
        }}
        w={260}
        mb="sm"
      />
      <QueryState what="groups" data={groups.data} error={groups.error} onRetry={() => void groups.refetch()}>
        {(data) =>
          data.groups.length === 0 ? (
            <Empty>{q ? "No group matches." : "No groups yet: create one to target many devices at once."}</Empty>
          ) : (
            <>
              <Table striped highlightOnHover aria-label="groups" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Group</Table.Th>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Members</Table.Th>
                    <Table.Th>Description</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.groups.map((g) => (
                    <Table.Tr key={g.group_id} data-group-id={g.group_id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/groups/${encodeURIComponent(g.group_id)}`} ff="monospace" size="sm">
                          {g.group_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{g.name}</Table.Td>
                      <Table.Td>{g.member_count}</Table.Td>
                      <Table.Td>{g.description}</Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(g.created_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager total={data.total} limit={PAGE} offset={offset} onChange={setOffset} label="groups" />
            </>
          )
        }
      </QueryState>
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create group" centered>
        {creating && <CreateGroupForm onClose={() => setCreating(false)} />}
      </Modal>
    </>
  );
}

function CreateGroupForm({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [groupId, setGroupId] = useState("");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const mutation = $api.useMutation("post", "/customer/groups", {
    onSuccess: (g) => {
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/groups") });
      onClose();
      navigate(`/groups/${encodeURIComponent(g.group_id)}`);
    },
  });
  const idError = groupId.trim() && !ID_PATTERN.test(groupId.trim()) ? "letters, digits, _ . : - (at most 128)" : undefined;
  function submit(e: FormEvent) {
    e.preventDefault();
    if (idError || !name.trim()) return;
    mutation.mutate({ body: { group_id: groupId.trim() || null, name: name.trim(), description: description.trim() } });
  }
  return (
    <form onSubmit={submit} noValidate aria-label="create group">
      <Stack gap="sm">
        <TextInput
          label="Group ID (optional)"
          description="Generated when empty"
          value={groupId}
          onChange={(e) => setGroupId(e.currentTarget.value)}
          error={idError}
        />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={200} />
        <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} maxLength={2000} />
        {mutation.error && (
          <Alert color="red" role="alert">
            {apiError(mutation.error)?.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={mutation.isPending} disabled={!name.trim() || !!idError}>
            Create group
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
