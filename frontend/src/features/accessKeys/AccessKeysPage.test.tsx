import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import { saveSession, type Role } from "../../services/api/session";
import { fakeApi, renderWithProviders } from "../../test/render";
import { AccessKeysPage, type AccessKey } from "./AccessKeysPage";

const key = (id: string, created_by: string, revoked_at: string | null = null): AccessKey => ({
  access_key_id: id,
  role: "operator",
  created_by,
  created_at: "2026-12-01T12:00:00Z",
  revoked_at,
});

function signIn(role: Role, email = "me@t.test") {
  saveSession({ token: "tok-1", email, role, tenantId: "t-1", expiresAt: Date.now() + 3_600_000 });
}

function show() {
  return renderWithProviders(
    <SessionProvider>
      <AccessKeysPage />
    </SessionProvider>,
  );
}

describe("AccessKeysPage", () => {
  it("lists keys without secrets; an operator may revoke only their own active keys", async () => {
    signIn("operator");
    fakeApi({
      "GET /customer/access-keys": () => [
        200,
        {
          access_keys: [
            key("AKIAMINE234567ABCDEF", "me@t.test"),
            key("AKIAOTHER34567ABCDEF", "other@t.test"),
            key("AKIAOLD234567ABCDEFG", "me@t.test", "2026-12-01T13:00:00Z"),
          ],
        },
      ],
    });
    show();
    const rows = within(await screen.findByRole("table", { name: "access keys" })).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).queryByRole("button", { name: "Revoke" }) !== null)).toEqual([true, false, false]);
    expect(rows[2]).toHaveTextContent("revoked");
    expect(rows[1]).toHaveTextContent("by other@t.test");
  });

  it("creates a key and shows its secret once, then lists it; revokes after a confirmation", async () => {
    signIn("admin");
    const keys: AccessKey[] = [];
    const calls = fakeApi({
      "GET /customer/access-keys": () => [200, { access_keys: keys }],
      "POST /customer/access-keys": () => {
        keys.push(key("AKIANEW234567ABCDEFG", "me@t.test"));
        return [201, { ...keys[0], secret_access_key: "s".repeat(40) }];
      },
      "POST /customer/access-keys/AKIANEW234567ABCDEFG/revoke": () => {
        keys[0] = { ...keys[0]!, revoked_at: "2026-12-01T14:00:00Z" };
        return [200, keys[0]];
      },
    });
    const user = userEvent.setup();
    show();
    expect(await screen.findByTestId("empty")).toHaveTextContent("No access keys yet.");
    await user.click(screen.getByRole("button", { name: "Create access key" }));
    const reveal = await screen.findByTestId("key-reveal");
    expect(within(reveal).getByTestId("aws_secret_access_key")).toHaveTextContent("s".repeat(40));
    expect(within(reveal).getByTestId("aws_access_key_id")).toHaveTextContent("AKIANEW234567ABCDEFG");
    await user.click(screen.getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByTestId("key-reveal")).not.toBeInTheDocument());
    const table = await screen.findByRole("table", { name: "access keys" });
    expect(table).not.toHaveTextContent("s".repeat(40));
    await user.click(within(table).getByRole("button", { name: "Revoke" }));
    await user.click(await screen.findByRole("button", { name: "Revoke key" }));
    await waitFor(() => expect(screen.getByRole("table", { name: "access keys" })).toHaveTextContent("revoked"));
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual([
      "/customer/access-keys",
      "/customer/access-keys/AKIANEW234567ABCDEFG/revoke",
    ]);
  });
});
