import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Twin } from "../../services/api/devices";
import { fakeApi, renderWithProviders } from "../../test/render";
import { TwinPanel } from "./TwinPanel";

const twin = (version: number, desired: Record<string, unknown>): Twin => ({
  device_id: "dev-1",
  desired,
  reported: { fan: "off" },
  desired_version: version,
  reported_version: 7,
  delta: desired,
  updated_at: "2024-05-01T12:00:00Z",
});

/** Someone else saved desired version 4 while this operator was editing version 3. */
function fakeConflict() {
  let current = twin(3, { fan: "on" });
  const calls = fakeApi({
    "GET /customer/devices/dev-1/twin": () => [200, current],
    "PATCH /customer/devices/dev-1/twin": () => {
      current = twin(4, { fan: "auto", led: "red" });
      return [409, { error: "conflict", detail: "version mismatch: expected 3, current 4", current }];
    },
  });
  return calls;
}

async function editAndSave(user: ReturnType<typeof userEvent.setup>, text: string) {
  const editor = screen.getByLabelText("Desired state (JSON)");
  await user.clear(editor);
  await user.click(editor);
  await user.paste(text);
  await user.click(screen.getByRole("button", { name: "Save desired" }));
}

describe("TwinPanel", () => {
  it("shows a version conflict on save, keeps the edit open, and saves nothing", async () => {
    const calls = fakeConflict();
    const user = userEvent.setup();
    renderWithProviders(<TwinPanel deviceId="dev-1" editable />);
    await user.click(await screen.findByRole("button", { name: "Edit desired" }));
    await editAndSave(user, '{"fan": "off"}');

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("version mismatch: expected 3, current 4 — reload the twin and edit again.");
    expect(calls.filter((c) => c.method === "PATCH")).toEqual([
      { method: "PATCH", path: "/customer/devices/dev-1/twin", body: { desired: { fan: "off" }, expected_version: 3 } },
    ]);
    expect(screen.getByLabelText("Desired state (JSON)")).toHaveValue('{"fan": "off"}');
    expect(screen.getByRole("button", { name: "Save desired" })).toBeEnabled();
  });
});
