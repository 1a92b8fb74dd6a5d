import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import type { Artifact } from "../../services/api/artifacts";
import { saveSession, type Role } from "../../services/api/session";
import { fakeXhr, lastXhr } from "../../test/fakeXhr";
import { fakeApi, renderWithProviders } from "../../test/render";
import { ArtifactsPage } from "./ArtifactsPage";
import { nameFromFile } from "./UploadArtifact";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const artifact = (name: string, size: number, sha256 = SHA): Artifact => ({
  name,
  sha256,
  size,
  content_type: "application/octet-stream",
  created_by: "admin@demo.local",
  created_at: "2024-05-01T12:00:00Z",
});
const page = (artifacts: Artifact[]) => ({ artifacts, total: artifacts.length, limit: 25, offset: 0 });

function signIn(role: Role = "admin") {
  saveSession({ token: "tok-1", email: "admin@demo.local", role, tenantId: "t-1", expiresAt: Date.now() + 3_600_000 });
}

function show() {
  const result = renderWithProviders(
    <SessionProvider>
      <ArtifactsPage />
    </SessionProvider>,
  );
  const fileInput = () => result.container.querySelector<HTMLInputElement>('input[type="file"]')!;
  return { ...result, fileInput };
}

describe("ArtifactsPage", () => {
  it("lists artifacts with human sizes, a short SHA-256 with a copy button and who uploaded them", async () => {
    signIn("viewer");
    fakeApi({ "GET /customer/artifacts": () => [200, page([artifact("fw-2.1.bin", 3 * 1024 * 1024 + 512), artifact("cfg.json", 700, "ab".repeat(32))])] });
    show();
    const table = await screen.findByRole("table", { name: "artifacts" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("fw-2.1.bin");
    expect(rows[0]).toHaveTextContent("3.0 MiB");
    expect(rows[0]).toHaveTextContent(`${SHA.slice(0, 12)}…`);
    expect(rows[0]).not.toHaveTextContent(SHA);
    expect(rows[0]).toHaveTextContent("by admin@demo.local");
    expect(rows[1]).toHaveTextContent("700 B");
    expect(within(rows[0]!).getByRole("button", { name: "Copy SHA-256" })).toBeInTheDocument();
    expect(within(rows[0]!).getByRole("link", { name: "fw-2.1.bin" })).toHaveAttribute("href", "/artifacts/fw-2.1.bin");
    // a viewer may not upload
    expect(screen.queryByRole("form", { name: "upload artifact" })).not.toBeInTheDocument();
  });

  it("uploads the raw file with the bearer token, shows the bytes sent, then lists the new artifact", async () => {
    signIn();
    const stored: Artifact[] = [];
    fakeApi({ "GET /customer/artifacts": () => [200, page(stored)] });
    const Xhr = fakeXhr();
    const user = userEvent.setup();
    const { fileInput } = show();
    expect(await screen.findByText("No artifacts yet.")).toBeInTheDocument();
    expect(screen.getByRole("form", { name: "upload artifact" })).toBeInTheDocument();

    const file = new File([new Uint8Array(2048)], "fw 2.1.bin", { type: "application/octet-stream" });
    await user.upload(fileInput(), file);
    expect(screen.getByLabelText("Name")).toHaveValue("fw-2.1.bin"); // made from the file's name
    await user.click(screen.getByRole("button", { name: "Upload" }));

    expect(Xhr.instances).toHaveLength(1);
    const xhr = lastXhr();
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe("/customer/artifacts?name=fw-2.1.bin");
    expect(xhr.headers).toMatchObject({ Authorization: "Bearer tok-1", "Content-Type": "application/octet-stream" });
    expect(xhr.body).toBe(file);

    act(() => xhr.progress(512, 2048));
    const bar = within(screen.getByTestId("upload-progress")).getByRole("progressbar");
    expect(bar).toHaveAttribute("aria-valuenow", "25");
    expect(screen.getByTestId("upload-progress")).toHaveTextContent("Uploading 25% (512 B of 2.0 KiB)");
    act(() => xhr.progress(1536, 2048));
    expect(bar).toHaveAttribute("aria-valuenow", "75");
    expect(screen.getByRole("button", { name: "Cancel upload" })).toBeInTheDocument();

    stored.push(artifact("fw-2.1.bin", 2048));
    act(() => xhr.respond(201, artifact("fw-2.1.bin", 2048)));
    const table = await screen.findByRole("table", { name: "artifacts" });
    expect(within(table).getByRole("link", { name: "fw-2.1.bin" })).toBeInTheDocument();
    expect(screen.queryByTestId("upload-progress")).not.toBeInTheDocument();
    expect(screen.getByLabelText("Name")).toHaveValue("");
  });

  it.each([
    [413, { error: "payload_too_large", detail: "request body exceeds 1048576 bytes" }, /larger than the server accepts \(request body exceeds 1048576 bytes; .*\)\. Nothing was stored\./],
    [409, { error: "conflict", detail: "artifact 'fw.bin' already exists" }, /An artifact named "fw.bin" already exists/],
    [422, { error: "validation_error", detail: "query.name: String should match pattern" }, /The name "fw.bin" is not allowed/],
  ])("says clearly why the API refused an upload (%i)", async (status, body, message) => {
    signIn();
    fakeApi({ "GET /customer/artifacts": () => [200, page([])] });
    fakeXhr();
    const user = userEvent.setup();
    const { fileInput } = show();
    await user.upload(fileInput(), new File(["x"], "fw.bin"));
    await user.click(screen.getByRole("button", { name: "Upload" }));
    act(() => lastXhr().respond(status, body));
    expect(await screen.findByTestId("upload-error")).toHaveTextContent(message);
    expect(screen.queryByTestId("upload-progress")).not.toBeInTheDocument();
  });

  it("checks the name before sending, and a canceled upload aborts the request", async () => {
    signIn();
    fakeApi({ "GET /customer/artifacts": () => [200, page([])] });
    const Xhr = fakeXhr();
    const user = userEvent.setup();
    const { fileInput } = show();
    await user.upload(fileInput(), new File(["x"], "fw.bin"));
    await user.clear(screen.getByLabelText("Name"));
    await user.type(screen.getByLabelText("Name"), "-bad name");
    await user.click(screen.getByRole("button", { name: "Upload" }));
    expect(screen.getByText(/starting with a letter or digit/)).toBeInTheDocument();
    expect(Xhr.instances).toHaveLength(0);

    await user.clear(screen.getByLabelText("Name"));
    await user.type(screen.getByLabelText("Name"), "good.bin");
    await user.click(screen.getByRole("button", { name: "Upload" }));
    await user.click(screen.getByRole("button", { name: "Cancel upload" }));
    expect(lastXhr().aborted).toBe(true);
    expect(await screen.findByText("Upload canceled: nothing was stored.")).toBeInTheDocument();
    expect(screen.queryByTestId("upload-error")).not.toBeInTheDocument();
  });
});

describe("nameFromFile", () => {
  it("keeps the characters the API allows and replaces the others", () => {
    expect(nameFromFile("fw-2.1.bin")).toBe("fw-2.1.bin");
    expect(nameFromFile("my firmware (v2).bin")).toBe("my-firmware--v2-.bin");
    expect(nameFromFile(".hidden")).toBe("hidden");
    expect(nameFromFile("x".repeat(300))).toHaveLength(128);
  });
});
