import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../../app/SessionContext";
import { loadSession } from "../../services/api/session";
import { fakeApi, renderWithProviders } from "../../test/render";
import { LoginPage } from "./LoginPage";

function Where() {
  const location = useLocation();
  return <div data-testid="where">{location.pathname + location.search}</div>;
}

function show(at = "/login") {
  return renderWithProviders(
    <SessionProvider>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="*" element={<Where />} />
      </Routes>
    </SessionProvider>,
    at,
  );
}

describe("LoginPage", () => {
  it("posts the password form, keeps the session and goes to the dashboard by default", async () => {
    const calls = fakeApi({
      "POST /auth/token": () => [
        200,
        { access_token: "tok-9", token_type: "bearer", expires_in: 3600, email: "a@t.test", role: "admin", tenant_id: "t-1" },
      ],
    });
    const user = userEvent.setup();
    show();
    await user.type(screen.getByLabelText("E-mail"), " a@t.test ");
    await user.type(screen.getByLabelText("Password"), "s3cret pass");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByTestId("where")).toHaveTextContent(/^\/$/);
    expect(calls).toEqual([{ method: "POST", path: "/auth/token", body: { username: "a@t.test", password: "s3cret pass" } }]);
    expect(loadSession()).toMatchObject({ token: "tok-9", email: "a@t.test", role: "admin", tenantId: "t-1" });
  });

  it("follows a same-site next, and shows the API's refusal", async () => {
    let ok = false;
    fakeApi({
      "POST /auth/token": () =>
        ok
          ? [200, { access_token: "t", token_type: "bearer", expires_in: 60, email: "a@t.test", role: "viewer", tenant_id: "t" }]
          : [401, { error: "unauthorized", detail: "wrong e-mail or password" }],
    });
    const user = userEvent.setup();
    show("/login?next=%2Fjobs%2Fj1");
    await user.type(screen.getByLabelText("E-mail"), "a@t.test");
    await user.type(screen.getByLabelText("Password"), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("wrong e-mail or password");
    expect(loadSession()).toBeNull();
    ok = true;
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/jobs/j1"));
  });

  it("asks for both fields before sending anything", async () => {
    const calls = fakeApi({});
    const user = userEvent.setup();
    show();
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("enter your e-mail and password");
    expect(calls).toEqual([]);
  });
});
