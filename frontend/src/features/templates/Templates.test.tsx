import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { describe, expect, it, vi } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import { saveSession } from "../../services/api/session";
import type { Template } from "../../services/api/templates";
import { fakeApi, renderWithProviders, type Call } from "../../test/render";
import { CreateJobFromTemplateModal } from "./CreateJobFromTemplate";
import { CreateTemplateModal } from "./CreateTemplateModal";
import { TemplateDetailPage } from "./TemplateDetailPage";
import { TemplatesPage } from "./TemplatesPage";
import { placeholders } from "./templateForm";

const template = (template_id: string, document: Record<string, unknown> = {}): Template => ({
  template_id,
  description: "",
  document_type: "firmware_update",
  document,
  parameters: placeholders(document),
  expires_in_hours: null,
  in_progress_timeout_minutes: 30,
  configs: {},
  created_by: "admin@demo.local",
  created_at: "2026-12-01T12:00:00Z",
});
const FW = template("fw", { url: "https://fw.example/${aws:iot:parameter:version}/${aws:iot:parameter:board}.bin", n: 1 });
const posts = (calls: Call[]) => calls.filter((c) => c.method !== "GET");

async function fill(user: ReturnType<typeof userEvent.setup>, el: HTMLElement, text: string) {
  await user.clear(el);
  await user.click(el);
  await user.paste(text);
}

function signIn() {
  saveSession({ token: "tok-1", email: "admin@demo.local", role: "admin", tenantId: "t-1", expiresAt: Date.now() + 3_600_000 });
}

describe("placeholders", () => {
  it("finds AWS's placeholders in any string value, once each, sorted", () => {
    expect(placeholders({ a: "${aws:iot:parameter:v}-${aws:iot:parameter:b}", l: ["${aws:iot:parameter:v}"], n: 3 })).toEqual(["b", "v"]);
    expect(placeholders({ a: "${aws:iot:parameter:}", b: "${other:x}", c: "$aws:iot:parameter:x" })).toEqual([]);
  });
});

describe("TemplatesPage", () => {
  it("lists templates and loads the next page with the API's next_after", async () => {
    signIn();
    const calls = fakeApi({
      "GET /customer/job-templates": (call) =>
        call.path.includes("after=b")
          ? [200, { templates: [template("c")], limit: 25, next_after: null }]
          : [200, { templates: [template("a"), FW], limit: 25, next_after: "b" }],
    });
    const user = userEvent.setup();
    renderWithProviders(
      <SessionProvider>
        <TemplatesPage />
      </SessionProvider>,
    );
    const table = await screen.findByRole("table", { name: "templates" });
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(table).getByRole("link", { name: "fw" })).toHaveAttribute("href", "/templates/fw");
    expect(table).toHaveTextContent("board, version");
    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(await within(table).findByRole("link", { name: "c" })).toBeInTheDocument();
    expect(screen.getByTestId("list-end")).toHaveTextContent("3 templates");
    expect(calls.map((c) => c.path)).toEqual(["/customer/job-templates?limit=25", "/customer/job-templates?limit=25&after=b"]);
  });
});

describe("CreateTemplateModal", () => {
  it("checks the fields before sending, names the placeholders as you type, and sends the template", async () => {
    const calls = fakeApi({ "POST /customer/job-templates": (call) => [201, template("fw-2", (call.body as Template).document)] });
    const onCreated = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<CreateTemplateModal opened onClose={() => {}} onCreated={onCreated} />);
    const create = screen.getByRole("button", { name: "Create template" });
    expect(screen.getByTestId("template-parameters")).toHaveTextContent("version");
    await fill(user, screen.getByLabelText("Template ID"), "fw 2");
    await fill(user, screen.getByLabelText("In-progress timeout (minutes)"), "1.5");
    await user.click(create);
    expect(await screen.findByText("letters, digits, '_' or '-', at most 64")).toBeInTheDocument();
    expect(screen.getByText("required, e.g. firmware_update")).toBeInTheDocument();
    expect(screen.getByText(/whole minutes, 1 to 10080/)).toBeInTheDocument();

    await fill(user, screen.getByLabelText("Document (JSON)"), '{"url": ');
    expect(await screen.findByText(/^not valid JSON/)).toBeInTheDocument();
    expect(create).toBeDisabled();
    await fill(user, screen.getByLabelText("Document (JSON)"), '{"url": "${aws:iot:parameter:version}", "to": "${aws:iot:parameter:board}"}');
    expect(screen.getByTestId("template-parameters")).toHaveTextContent("boardversion");
    await fill(user, screen.getByLabelText("Template ID"), "fw-2");
    await fill(user, screen.getByLabelText("Document type"), "firmware_update");
    await fill(user, screen.getByLabelText("In-progress timeout (minutes)"), "30");
    expect(posts(calls)).toHaveLength(0);
    await user.click(create);
    await waitFor(() => expect(onCreated).toHaveBeenCalledOnce());
    expect(posts(calls)[0]?.body).toEqual({
      template_id: "fw-2",
      description: "",
      document_type: "firmware_update",
      document: { url: "${aws:iot:parameter:version}", to: "${aws:iot:parameter:board}" },
      in_progress_timeout_minutes: 30,
    });
  });

  it("sends default configs from the rollout sections and shows the API's refusal", async () => {
    const calls = fakeApi({ "POST /customer/job-templates": () => [409, { error: "conflict", detail: "template 'fw' already exists" }] });
    const user = userEvent.setup();
    renderWithProviders(<CreateTemplateModal opened onClose={() => {}} onCreated={() => {}} />);
    await fill(user, screen.getByLabelText("Template ID"), "fw");
    await fill(user, screen.getByLabelText("Document type"), "firmware_update");
    await user.click(screen.getByRole("button", { name: "Rollout section" }));
    await fill(user, screen.getByLabelText("Maximum per minute"), "30");
    await user.click(screen.getByRole("button", { name: "Create template" }));
    expect(await screen.findByTestId("create-template-error")).toHaveTextContent("template 'fw' already exists");
    expect((posts(calls)[0]?.body as { configs: unknown }).configs).toEqual({ rollout_config: { maximum_per_minute: 30 } });
  });
});

describe("CreateJobFromTemplateModal", () => {
  it("asks for each parameter and a target, and sends template_id with document_parameters", async () => {
    const calls = fakeApi({
      "GET /customer/devices": () => [200, { devices: [], total: 0, limit: 20, offset: 0 }],
      "POST /customer/jobs": () => [201, { job_id: "j-9", execution_count: 4 }],
    });
    const onCreated = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<CreateJobFromTemplateModal template={FW} opened onClose={() => {}} onCreated={onCreated} />);
    await user.click(screen.getByRole("button", { name: "Create job" }));
    expect(await screen.findAllByText("required")).toHaveLength(2);
    expect(screen.getByText("choose a device")).toBeInTheDocument();
    await fill(user, screen.getByLabelText("version"), "2.0.1");
    await fill(user, screen.getByLabelText("board"), "rev-b");
    await user.click(screen.getByText("Whole fleet"));
    expect(posts(calls)).toHaveLength(0);
    await user.click(screen.getByRole("button", { name: "Create job" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledOnce());
    expect(posts(calls)[0]?.body).toEqual({
      template_id: "fw",
      document_parameters: { version: "2.0.1", board: "rev-b" },
      target_all: true,
    });
  });

  it("shows the API's 400 naming the missing parameters beside their fields", async () => {
    // the template changed since the page loaded: the API wants a parameter the form does not know
    fakeApi({
      "GET /customer/devices": () => [200, { devices: [], total: 0, limit: 20, offset: 0 }],
      "POST /customer/jobs": () => [400, { error: "bad_request", detail: "document_parameters lacks board, region", missing: ["board", "region"] }],
    });
    const user = userEvent.setup();
    renderWithProviders(<CreateJobFromTemplateModal template={{ ...FW, parameters: ["board", "version"] }} opened onClose={() => {}} onCreated={() => {}} />);
    await fill(user, screen.getByLabelText("version"), "2.0.1");
    await fill(user, screen.getByLabelText("board"), "x");
    await user.click(screen.getByText("Whole fleet"));
    await user.click(screen.getByRole("button", { name: "Create job" }));
    const error = await screen.findByTestId("create-job-error");
    expect(error).toHaveTextContent("document_parameters lacks board, region");
    expect(error).toHaveTextContent("Missing: board, region");
    expect(screen.getByText("the API says this is missing")).toBeInTheDocument(); // beside "board"
  });

  it("tells unknown parameters apart", async () => {
    fakeApi({ "POST /customer/jobs": () => [400, { error: "bad_request", detail: "the template has no parameter version", unknown: ["version"] }] });
    const user = userEvent.setup();
    renderWithProviders(<CreateJobFromTemplateModal template={template("plain")} opened onClose={() => {}} onCreated={() => {}} />);
    expect(screen.getByTestId("no-parameters")).toBeInTheDocument();
    await user.click(screen.getByText("Whole fleet"));
    await user.click(screen.getByRole("button", { name: "Create job" }));
    expect(await screen.findByTestId("create-job-error")).toHaveTextContent("Not parameters of the template: version");
  });
});

describe("TemplateDetailPage", () => {
  it("shows the parameters and defaults, and deletes the template after a confirmation", async () => {
    signIn();
    const calls = fakeApi({
      "GET /customer/job-templates/fw": () => [200, { ...FW, configs: { retry_config: { criteria_list: [{ failure_type: "FAILED", number_of_retries: 2 }] } } }],
      "DELETE /customer/job-templates/fw": () => [200, FW],
    });
    const user = userEvent.setup();
    renderWithProviders(
      <SessionProvider>
        <Routes>
          <Route path="/templates" element={<p>the templates list</p>} />
          <Route path="/templates/:templateId" element={<TemplateDetailPage />} />
        </Routes>
      </SessionProvider>,
      "/templates/fw",
    );
    const params = await screen.findByLabelText("template parameters");
    expect(within(params).getAllByText(/board|version/).map((b) => b.textContent)).toEqual(["board", "version"]);
    expect(screen.getByTestId("template-configs")).toHaveTextContent(/retries/i);
    await user.click(screen.getByRole("button", { name: "Delete template" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete template fw?" });
    expect(dialog).toHaveTextContent(/Jobs already made from it keep running/);
    await user.click(within(dialog).getByRole("button", { name: "Delete template" }));
    expect(await screen.findByText("the templates list")).toBeInTheDocument();
    expect(posts(calls)).toEqual([{ method: "DELETE", path: "/customer/job-templates/fw", body: undefined }]);
  });
});
