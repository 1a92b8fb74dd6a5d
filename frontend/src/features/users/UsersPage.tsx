// The tenant's operators, for its admins (/customer/users): list, add one (its generated password is shown
// once), change a role, disable or re-enable. The API keeps the tenant an enabled admin (409, shown as is).
// Other roles see that the page is for admins only, and the navigation does not offer it to them.

import { Alert, Badge, Button, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { useSession } from "../../app/SessionContext";
import { $api, pathKey } from "../../services/api/openapi";
import type { Schemas } from "../../services/api/types";
import { Empty, ErrorAlert, QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { PasswordReveal } from "./PasswordReveal";

export type User = Schemas["UserOut"];
export type UserRole = User["role"];
export const ROLES: { value: UserRole; label: string }[] = [
  { value: "admin", label: "admin" },
  { value: "operator", label: "operator" },
  { value: "viewer", label: "viewer" },
];
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const USERS = pathKey("/customer/users");

function AddUser() {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<UserRole>("operator");
  const [invalid, setInvalid] = useState<string | null>(null);
  const create = $api.useMutation("post", "/customer/users", {
    onSuccess: () => {
      setEmail("");
      setRole("operator");
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: USERS }),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const value = email.trim();
    const problem = !value ? "required" : EMAIL.test(value) ? null : "an e-mail address: name@domain";
    setInvalid(problem);
    if (!problem) create.mutate({ body: { email: value, role } });
  }

  return (
    <>
      <form onSubmit={submit} aria-label="add user" noValidate>
        <Group align="flex-end" gap="sm">
          <TextInput
            label="E-mail"
            placeholder="name@example.com"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={invalid}
            w={280}
          />
          <Select
            label="Role"
            data={ROLES}
            value={role}
            onChange={(v) => v && setRole(v as UserRole)}
            allowDeselect={false}
            w={140}
          />
          <Button type="submit" loading={create.isPending}>
            Add user
          </Button>
        </Group>
      </form>
      {create.error && <ErrorAlert error={create.error} />}
      <Modal opened={create.data !== undefined} onClose={() => create.reset()} title="User added" size="lg" centered>
        {create.data && (
          <Stack>
            <PasswordReveal email={create.data.email} password={create.data.password} />
            <Group justify="flex-end">
              <Button onClick={() => create.reset()}>Done</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}

function UserRow({ user, self }: { user: User; self: boolean }) {
  const queryClient = useQueryClient();
  const update = $api.useMutation("patch", "/customer/users/{user_id}", {
    onSuccess: (u) =>
      notifications.show({
        color: "teal",
        title: "User updated",
        message: `${u.email}: ${u.role}${u.disabled ? ", disabled" : ""}`,
      }),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: USERS }),
  });
  const patch = (body: { role?: UserRole; disabled?: boolean }) =>
    update.mutate({ params: { path: { user_id: user.user_id } }, body });

  return (
    <>
      <Table.Tr data-user={user.email}>
        <Table.Td>
          {user.email}
          {self && (
            <Text span size="xs" c="dimmed">
              {" "}
              (you)
            </Text>
          )}
        </Table.Td>
        <Table.Td>
          <Select
            aria-label={`role of ${user.email}`}
            data={ROLES}
            value={user.role}
            onChange={(v) => v && v !== user.role && patch({ role: v as UserRole })}
            allowDeselect={false}
            disabled={update.isPending}
            size="xs"
            w={120}
          />
        </Table.Td>
        <Table.Td>
          {user.disabled ? <Badge color="gray">disabled</Badge> : <Badge color="teal">enabled</Badge>}
        </Table.Td>
        <Table.Td>{formatTime(user.created_at)}</Table.Td>
        <Table.Td>
          <Button
            size="xs"
            variant="light"
            color={user.disabled ? "teal" : "red"}
            loading={update.isPending}
            onClick={() => patch({ disabled: !user.disabled })}
          >
            {user.disabled ? "Enable" : "Disable"}
          </Button>
        </Table.Td>
      </Table.Tr>
      {update.error && (
        <Table.Tr>
          <Table.Td colSpan={5}>
            <ErrorAlert error={update.error} />
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}

function UsersAdmin({ me }: { me: string }) {
  const users = $api.useQuery("get", "/customer/users");
  return (
    <>
      <AddUser />
      <QueryState what="users" data={users.data} error={users.error} onRetry={() => void users.refetch()}>
        {({ users: list }) =>
          list.length === 0 ? (
            <Empty>No users.</Empty>
          ) : (
            <Table striped aria-label="users" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>E-mail</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((u) => (
                  <UserRow key={u.user_id} user={u} self={u.email.toLowerCase() === me.toLowerCase()} />
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
    </>
  );
}

export function UsersPage() {
  const session = useSession();
  return (
    <Stack gap="md">
      <Title order={2}>Users</Title>
      {session?.role === "admin" ? (
        <>
          <Text size="sm" c="dimmed">
            The tenant&apos;s operators. A new user gets a generated password, shown once. A disabled user can neither
            sign in nor use a token issued before. The tenant always keeps an enabled admin.
          </Text>
          <UsersAdmin me={session.email} />
        </>
      ) : (
        <Alert color="yellow" title="Admins only" role="status" data-testid="admins-only">
          Only a tenant admin can see and manage users. Your role is {session?.role ?? "unknown"}.
        </Alert>
      )}
    </Stack>
  );
}
