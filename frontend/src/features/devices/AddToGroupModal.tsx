// Adds the devices list's selection to a group: listed ids, or all matching the filters (resolved by the server).

import { Alert, Button, Group, Modal, Select, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useDebouncedValue } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { $api, apiError, pathKey } from "../../services/api/openapi";
import { describeSelection, selectionBody, type Selection } from "./selection";

export interface AddToGroupModalProps {
  opened: boolean;
  selection: Selection;
  onClose: () => void;
  onAdded: () => void;
}

export function AddToGroupModal({ opened, onClose, ...rest }: AddToGroupModalProps) {
  return (
    <Modal opened={opened} onClose={onClose} title="Add to group" centered>
      {opened && <AddToGroupForm onClose={onClose} {...rest} />}
    </Modal>
  );
}

function AddToGroupForm({ selection, onClose, onAdded }: Omit<AddToGroupModalProps, "opened">) {
  const queryClient = useQueryClient();
  const [groupId, setGroupId] = useState<string | null>(null);
  const [picked, setPicked] = useState(""); // the chosen option's label, which Select shows as its search text
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search === picked ? "" : search.trim(), 250);
  const groups = $api.useQuery("get", "/customer/groups", { params: { query: { q: q || undefined, limit: 50 } } });
  const add = $api.useMutation("post", "/customer/groups/{group_id}/members", {
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/groups") });
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/groups/{group_id}") });
      const queued = result.queued_executions ? `; ${result.queued_executions} executions of its continuous jobs queued` : "";
      notifications.show({
        color: "teal",
        title: "Added to group",
        message: `${result.added} device${result.added === 1 ? "" : "s"} added to ${result.group_id}${queued}`,
      });
      onAdded();
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (groupId) add.mutate({ params: { path: { group_id: groupId } }, body: selectionBody(selection) });
  }

  const options = (groups.data?.groups ?? []).map((g) => ({ value: g.group_id, label: `${g.name} (${g.group_id})` }));
  return (
    <form onSubmit={submit} aria-label="add to group">
      <Stack gap="sm">
        <Text size="sm">Add {describeSelection(selection)} to:</Text>
        <Select
          label="Group"
          placeholder="search groups"
          searchable
          data={options}
          value={groupId}
          onChange={(value, option) => {
            setGroupId(value);
            setPicked(option?.label ?? "");
          }}
          searchValue={search}
          onSearchChange={setSearch}
          nothingFoundMessage={groups.isPending ? "Loading…" : "No group matches"}
          error={apiError(groups.error)?.message}
        />
        {add.error && (
          <Alert color="red" role="alert">
            {apiError(add.error)?.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={add.isPending} disabled={!groupId}>
            Add to group
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
