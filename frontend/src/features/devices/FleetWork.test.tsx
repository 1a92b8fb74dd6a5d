import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import { saveSession } from "../../services/api/session";
import { fakeApi, renderWithProviders } from "../../test/render";
import { DevicesPage } from "./DevicesPage";
import { ImportDevicesModal } from "./ImportDevicesModal";

const device = (id: string) => ({
  device_id: id,
  thing_name: `t1:${id}`,
  name: `Name ${id}`,
  attributes: {},
  status: "ACTIVE",
  online: false,
  last_seen_at: null,
  desired_version: 0,
  reported_version: 0,
  created_at: "2024-05-01T12:00:00Z",
  updated_at: "2024-05-01T12:00:00Z",
});

/** Mantine's FileInput: a button labelled "CSV file" that opens the hidden file input. */
const fileInput = () => {
  expect(screen.getByRole("button", { name: "CSV file" })).toBeInTheDocument();
  return document.querySelector<HTMLInputElement>('input[type="file"]')!;
};

afterEach(() => {
  vi.unstubAllGlobals();
  saveSession(null);
});

describe("selecting devices", () => {
  it("selects a page, then all matching the filter, and adds them to a group as a filter", { timeout: 60_000 }, async () => {
    saveSession({ token: "tok", email: "a@b.c", role: "admin", tenantId: "t1", expiresAt: Date.now() + 60_000 });
    const page = Array.from({ length: 5 }, (_, i) => device(`pump-${i}`));
    const calls = fakeApi({
      // the first page of several
      "GET /customer/devices": () => [200, { devices: page, total: 60, limit: 25, offset: 0 }],
      "GET /customer/groups": () => [
        200,
        { groups: [{ group_id: "lab", name: "Lab", description: "", member_count: 0, created_at: "2024-05-01T12:00:00Z" }], total: 1, limit: 50, offset: 0 },
      ],
      "POST /customer/groups/lab/members": () => [200, { group_id: "lab", added: 60, queued_executions: 0 }],
    });
    const user = userEvent.setup();
    renderWithProviders(
      <SessionProvider>
        <DevicesPage />
      </SessionProvider>,
      "/devices?q=pump",
    );
    await user.click(await screen.findByRole("checkbox", { name: "Select pump-3" }));
    expect(screen.getByTestId("selection-count")).toHaveTextContent("1 selected");
    const header = screen.getByRole("checkbox", { name: "Select every device on this page" });
    expect(header).toHaveProperty("indeterminate", true);
    await user.click(header);
    expect(screen.getByTestId("selection-count")).toHaveTextContent("5 selected");
    await user.click(screen.getByRole("button", { name: "Select all 60 matching" }));
    expect(screen.getByTestId("selection-count")).toHaveTextContent("All 60 matching devices selected");
    expect(screen.getByRole("checkbox", { name: "Select pump-4" })).toBeDisabled();

    await user.click(screen.getByRole("button", { name: "Add to group" }));
    const dialog = await screen.findByRole("dialog", { name: "Add to group" });
    expect(within(dialog).getByText(/all 60 devices matching “pump”/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole("combobox", { name: "Group" }));
    await user.click(await screen.findByRole("option", { name: "Lab (lab)" }));
    await user.click(within(dialog).getByRole("button", { name: "Add to group" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")).toEqual({
      method: "POST",
      path: "/customer/groups/lab/members",
      body: { matching: { q: "pump", status: null } },
    });
    await waitFor(() => expect(screen.queryByTestId("selection-count")).toBeNull());
  });
});

describe("importing a CSV file", () => {
  it("shows every problem of a refused file by line, and imports nothing", async () => {
    const errors = [
      { line: 3, column: "device_id", message: "'bad id' is not a device id" },
      { line: 5, column: "device_id", message: "'p-1' repeats line 2" },
    ];
    const calls = fakeApi({
      "POST /customer/devices/import": () => [400, { error: "invalid_csv", detail: "line 3: 'bad id' is not a device id (and 1 more)", errors }],
    });
    const user = userEvent.setup();
    renderWithProviders(<ImportDevicesModal opened onClose={() => {}} />);
    const file = new File(["device_id\np-1\nbad id\n\np-1\n"], "devices.csv", { type: "text/csv" });
    await user.upload(fileInput(), file);
    const alert = await screen.findByTestId("import-errors");
    const rows = within(within(alert).getByRole("table", { name: "problems" })).getAllByRole("row");
    expect(rows.map((r) => r.textContent)).toEqual([
      "LineColumnProblem",
      "3device_id'bad id' is not a device id",
      "5device_id'p-1' repeats line 2",
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ csv: "device_id\np-1\nbad id\n\np-1\n", dry_run: true });
    expect(screen.getByRole("button", { name: "Import" })).toBeDisabled();
  });

  it("previews a good file, imports it, and offers the tokens once as a CSV download", async () => {
    const rows = [
      { device_id: "p-1", name: "Pump", attributes: { site: "north" } },
      { device_id: "p-2", name: "", attributes: {} },
    ];
    const calls = fakeApi({
      "POST /customer/devices/import": (call) => {
        const dry = (call.body as { dry_run: boolean }).dry_run;
        const devices = rows.map((r, i) => ({ ...r, provision_token: dry ? null : `tok-${i}` }));
        return [200, { dry_run: dry, count: 2, devices }];
      },
    });
    const blobs: Blob[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: (b: Blob) => (blobs.push(b), "blob:x"), revokeObjectURL: () => {} }));
    const user = userEvent.setup();
    renderWithProviders(<ImportDevicesModal opened onClose={() => {}} />);
    await user.upload(fileInput(), new File(["device_id,name,site\np-1,Pump,north\np-2,,\n"], "d.csv"));
    const preview = await screen.findByTestId("import-preview");
    expect(preview).toHaveTextContent("2 devices ready to import");
    expect(within(preview).getByText("site=north")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Import 2 devices" }));
    expect(await screen.findByTestId("tokens-once")).toHaveTextContent("shown once");
    await user.click(screen.getByRole("button", { name: "Download tokens (CSV)" }));
    expect(await blobs[0]?.text()).toBe("device_id,name,provision_token\r\np-1,Pump,tok-0\r\np-2,,tok-1\r\n");
    expect(calls.map((c) => (c.body as { dry_run: boolean }).dry_run)).toEqual([true, false]);
  });
});
