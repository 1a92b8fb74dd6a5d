import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Twin } from "../../services/api/devices";
import type { Schemas } from "../../services/api/types";
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

/** The twin API with its optimistic version check; `someoneElseSaves` bumps desired behind the console's back. */
function fakeTwinApi() {
  let current = twin(3, { fan: "on" });
  const calls = fakeApi({
    "GET /customer/devices/dev-1/twin": () => [200, current],
    "PATCH /customer/devices/dev-1/twin": (call) => {
      const { expected_version } = call.body as Schemas["TwinPatch"];
      if (expected_version !== current.desired_version) {
        const detail = `version mismatch: expected ${expected_version}, current ${current.desired_version}`;
        return [409, { error: "conflict", detail, current }];
      }
      current = twin(current.desired_version + 1, { fan: "off" });
      return [200, current];
    },
  });
  const someoneElseSaves = () => {
    current = twin(4, { fan: "auto", led: "red" });
  };
  return { calls, someoneElseSaves };
}

async function editAndSave(user: ReturnType<typeof userEvent.setup>, text: string) {
  const editor = screen.getByLabelText("Desired state (JSON)");
  await user.clear(editor);
  await user.click(editor);
  await user.paste(text);
  await user.click(screen.getByRole("button", { name: "Save desired" }));
}

const desiredBox = () => screen.getByRole("group", { name: "desired state" });
const patches = (calls: ReturnType<typeof fakeTwinApi>["calls"]) =>
  calls.filter((c) => c.method === "PATCH").map((c) => c.body);

describe("TwinPanel", () => {
  it("on a version conflict shows the API's message, the current twin and the kept edit, which then saves", async () => {
    const { calls, someoneElseSaves } = fakeTwinApi();
    const user = userEvent.setup();
    renderWithProviders(<TwinPanel deviceId="dev-1" editable />);
    await user.click(await screen.findByRole("button", { name: "Edit desired" }));
    someoneElseSaves();
    await editAndSave(user, '{"fan": "off"}');

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("version mismatch: expected 3, current 4");
    expect(alert).toHaveTextContent("the twin above now shows the current desired state");
    expect(patches(calls)).toEqual([{ desired: { fan: "off" }, expected_version: 3 }]);
    await waitFor(() => expect(within(desiredBox()).getByText("v4")).toBeInTheDocument());
    expect(within(desiredBox()).getByText(/"led": "red"/)).toBeInTheDocument();
    expect(screen.getByLabelText("Desired state (JSON)")).toHaveValue('{"fan": "off"}');

    await user.click(screen.getByRole("button", { name: "Save desired" }));
    await waitFor(() => expect(screen.queryByLabelText("Desired state (JSON)")).not.toBeInTheDocument());
    expect(patches(calls)).toEqual([
      { desired: { fan: "off" }, expected_version: 3 },
      { desired: { fan: "off", led: null }, expected_version: 4 },
    ]);
    expect(within(desiredBox()).getByText("v5")).toBeInTheDocument();
  });
});
