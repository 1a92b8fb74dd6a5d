import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import { saveSession, type Role } from "../../services/api/session";
import { fakeApi, renderWithProviders } from "../../test/render";
import { UsersPage, type User } from "./UsersPage";

function signIn(role: Role, email = "boss@t.test") {
  saveSession({ token: "tok-1", email, role, tenantId: "t-1", expiresAt: Date.now() + 3_600_000 });
}

const user = (user_id: string, email: string, role: User["role"], disabled = false): User => ({
  user_id,
  email,
  role,
  disabled,
  created_at: "2026-12-01T12:00:00Z",
});

function show() {
  return renderWithProviders(
    <SessionProvider>
      <UsersPage />
    </SessionProvider>,
  );
}

const rowOf = (email: string) =>
  within(screen.getByRole("table", { name: "users" }))
    .getAllByRole("row")
    .find((r) => r.getAttribute("data-user") === email)!;

describe("UsersPage", () => {
  it("adds a user and shows the generated password once, then lists them", async () => {
    signIn("admin");
    const users = [user("u1", "boss@t.test", "admin")];
    const calls = fakeApi({
      "GET /customer/users": () => [200, { users }],
      "POST /customer/users": (call) => {
        const body = call.body as { email: string; role: User["role"] };
        users.push(user("u2", body.email, body.role));
        return [201, { ...users[1], password: "pw-generated-0123456789" }];
      },
    });
    const u = userEvent.setup();
    show();
    expect(await screen.findByRole("table", { name: "users" })).toHaveTextContent("boss@t.test");
    expect(rowOf("boss@t.test")).toHaveTextContent("(you)");
    await u.type(screen.getByLabelText("E-mail"), "new@t.test");
    await u.click(screen.getByRole("combobox", { name: "Role" }));
    await u.click(await screen.findByRole("option", { name: "viewer" }));
    await u.click(screen.getByRole("button", { name: "Add user" }));
    const reveal = await screen.findByTestId("password-reveal");
    expect(within(reveal).getByTestId("new-password")).toHaveTextContent("pw-generated-0123456789");
    await u.click(screen.getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByTestId("password-reveal")).not.toBeInTheDocument());
    await waitFor(() => expect(rowOf("new@t.test")).toHaveTextContent("enabled"));
    expect(screen.getByRole("table", { name: "users" })).not.toHaveTextContent("pw-generated");
    expect(calls.filter((c) => c.method === "POST")).toEqual([
      { method: "POST", path: "/customer/users", body: { email: "new@t.test", role: "viewer" } },
    ]);
  });

  it("checks the e-mail before sending", async () => {
    signIn("admin");
    const calls = fakeApi({ "GET /customer/users": () => [200, { users: [] }] });
    const u = userEvent.setup();
    show();
    await u.type(await screen.findByLabelText("E-mail"), "not-an-address");
    await u.click(screen.getByRole("button", { name: "Add user" }));
    expect(await screen.findByText("an e-mail address: name@domain")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("changes a role and disables a user; shows the API's refusal to leave no admin", async () => {
    signIn("admin");
    const users = [user("u1", "boss@t.test", "admin"), user("u2", "op@t.test", "operator")];
    const calls = fakeApi({
      "GET /customer/users": () => [200, { users }],
      "PATCH /customer/users/u2": (call) => {
        users[1] = { ...users[1]!, ...(call.body as Partial<User>) };
        return [200, users[1]];
      },
      "PATCH /customer/users/u1": () => [
        409,
        { error: "conflict", detail: "the tenant must keep an enabled admin" },
      ],
    });
    const u = userEvent.setup();
    show();
    await screen.findByRole("table", { name: "users" });
    await u.click(within(rowOf("op@t.test")).getByRole("combobox", { name: "role of op@t.test" }));
    await u.click(await screen.findByRole("option", { name: "admin" }));
    await waitFor(() => expect(within(rowOf("op@t.test")).getByRole("combobox", { name: "role of op@t.test" })).toHaveValue("admin"));
    await u.click(within(rowOf("op@t.test")).getByRole("button", { name: "Disable" }));
    await waitFor(() => expect(rowOf("op@t.test")).toHaveTextContent("disabled"));
    expect(within(rowOf("op@t.test")).getByRole("button", { name: "Enable" })).toBeInTheDocument();
    await u.click(within(rowOf("boss@t.test")).getByRole("button", { name: "Disable" }));
    expect(await screen.findByTestId("error-message")).toHaveTextContent("the tenant must keep an enabled admin");
    expect(calls.filter((c) => c.method === "PATCH")).toEqual([
      { method: "PATCH", path: "/customer/users/u2", body: { role: "admin" } },
      { method: "PATCH", path: "/customer/users/u2", body: { disabled: true } },
      { method: "PATCH", path: "/customer/users/u1", body: { disabled: true } },
    ]);
  });

  it.each(["operator", "viewer"] as const)("tells a %s the page is for admins only, and asks the API nothing", async (role) => {
    signIn(role);
    const calls = fakeApi({});
    show();
    expect(await screen.findByTestId("admins-only")).toHaveTextContent("Only a tenant admin can see and manage users");
    expect(screen.queryByRole("table", { name: "users" })).not.toBeInTheDocument();
    expect(calls).toEqual([]);
  });
});
