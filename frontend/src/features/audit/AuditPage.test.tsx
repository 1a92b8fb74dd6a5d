import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";

import type { AuditEntry } from "./auditView";
import { fakeApi, renderWithProviders } from "../../test/render";
import { AuditPage } from "./AuditPage";
import { deletedTargets, targetLink } from "./auditView";

let nextId = 100;
const entry = (action: string, target_type: string, target_id: string, details: Record<string, unknown> = {}): AuditEntry => ({
  audit_id: nextId--,
  at: "2026-12-01T12:00:00Z",
  actor: "admin@demo.local",
  actor_user_id: "u-1",
  action,
  target_type,
  target_id,
  details,
});

function Where() {
  const location = useLocation();
  return <p data-testid="where">{location.search}</p>;
}

function show(at = "/audit") {
  return renderWithProviders(
    <>
      <AuditPage />
      <Where />
    </>,
    at,
  );
}

async function fill(user: ReturnType<typeof userEvent.setup>, el: HTMLElement, text: string) {
  await user.clear(el);
  await user.click(el);
  await user.paste(text);
}

describe("auditView", () => {
  it("links a target to its page unless the log's newest entry for it is its deletion", () => {
    const log = [
      entry("job.deleted", "job", "j-1"),
      entry("execution.deleted", "execution", "j-2/dev-1"),
      entry("job.created", "job", "j-3"),
      entry("job.deleted", "job", "j-3"), // older: j-3 was made again after it
      entry("job.created", "job", "j-1"),
    ];
    const deleted = deletedTargets(log);
    expect([...deleted]).toEqual(["job:j-1"]);
    expect(log.map((e) => targetLink(e, deleted))).toEqual([null, "/jobs/j-2", "/jobs/j-3", "/jobs/j-3", null]);
    expect(targetLink(entry("execution.canceled", "execution", "j-1/dev-1"), deleted)).toBeNull(); // its job is gone
    expect(targetLink(entry("twin.edited", "device", "boiler 1"), deleted)).toBe("/devices/boiler%201");
    expect(targetLink(entry("x.y", "tenant", "t"), deleted)).toBeNull();
  });
});

describe("AuditPage", () => {
  it("shows the log newest first, with links, expandable details, and Load more with next_after", async () => {
    const calls = fakeApi({
      "GET /customer/audit": (call) =>
        call.path.includes("after=")
          ? [200, { entries: [entry("template.created", "template", "fw", { document_type: "fw", parameters: ["v"] })], limit: 50, next_after: null }]
          : [
              200,
              {
                entries: [entry("job.deleted", "job", "j-1", { force: true }), entry("job.created", "job", "j-2", { execution_count: 3 })],
                limit: 50,
                next_after: 99,
              },
            ],
    });
    const user = userEvent.setup();
    show();
    const table = await screen.findByRole("table", { name: "audit log" });
    const rows = () => within(table).getAllByRole("row").slice(1);
    expect(rows().map((r) => r.getAttribute("data-action"))).toEqual(["job.deleted", "job.created"]);
    expect(rows()[0]).toHaveTextContent("admin@demo.local");
    expect(within(rows()[0]!).queryByRole("link")).not.toBeInTheDocument(); // deleted
    expect(within(rows()[1]!).getByRole("link")).toHaveAttribute("href", "/jobs/j-2");

    await user.click(within(rows()[1]!).getByRole("button", { name: "Show" }));
    expect(screen.getByLabelText(`details of entry ${rows()[1]!.getAttribute("data-audit-id")}`)).toHaveTextContent('"execution_count": 3');
    await user.click(within(table).getByRole("button", { name: "Hide" }));

    await user.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(within(rows()[2]!).getByRole("link")).toHaveAttribute("href", "/templates/fw");
    expect(screen.getByTestId("list-end")).toHaveTextContent("3 entries");
    expect(calls.map((c) => c.path)).toEqual(["/customer/audit?limit=50", "/customer/audit?limit=50&after=99"]);
  });

  it("keeps the filters in the URL query and sends them (times as UTC ISO)", async () => {
    const calls = fakeApi({ "GET /customer/audit": () => [200, { entries: [], limit: 50, next_after: null }] });
    const user = userEvent.setup();
    show("/audit?actor=ops%40x.io");
    expect(await screen.findByText("No entry matches these filters.")).toBeInTheDocument();
    expect(screen.getByLabelText("Actor")).toHaveValue("ops@x.io");
    await fill(user, screen.getByRole("combobox", { name: "Action" }), "job.deleted");
    await fill(user, screen.getByLabelText("Target id"), "j-1");
    await fill(user, screen.getByLabelText("Since (UTC)"), "2026-12-01 10:00");
    await fill(user, screen.getByLabelText("Until (UTC)"), "yesterday");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText("a UTC time like 2027-01-01 02:00")).toBeInTheDocument();
    expect(calls).toHaveLength(1); // nothing sent while a time is wrong
    await user.clear(screen.getByLabelText("Until (UTC)"));
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(calls).toHaveLength(2));
    const query = new URLSearchParams(screen.getByTestId("where").textContent ?? "");
    expect(Object.fromEntries(query)).toEqual({ action: "job.deleted", target_id: "j-1", actor: "ops@x.io", since: "2026-12-01T10:00:00Z" });
    expect(new URLSearchParams(calls[1]!.path.split("?")[1])).toEqual(new URLSearchParams({ action: "job.deleted", target_id: "j-1", actor: "ops@x.io", since: "2026-12-01T10:00:00Z", limit: "50" }));
    expect(screen.getByLabelText("Since (UTC)")).toHaveValue("2026-12-01 10:00 UTC");

    await user.click(screen.getByRole("button", { name: "Clear" }));
    await waitFor(() => expect(calls.at(-1)?.path).toBe("/customer/audit?limit=50"));
    expect(screen.getByLabelText("Actor")).toHaveValue("");
  });

  it("shows the API's error", async () => {
    fakeApi({ "GET /customer/audit": () => [422, { error: "validation_error", detail: "query.since: Input should be a valid datetime" }] });
    show("/audit?since=bad");
    expect(await screen.findByTestId("error-message")).toHaveTextContent("Input should be a valid datetime");
  });
});
