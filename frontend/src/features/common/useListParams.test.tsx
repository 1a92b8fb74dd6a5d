import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, useLocation, useNavigate, useNavigationType } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useListParams } from "./useListParams";

/**
 * The hook on a list page opened at `url`, with the URL and how it was last changed (PUSH / REPLACE);
 * `rendered` records the search and page of every render, which is what a list page would fetch.
 */
function renderList(url: string) {
  const rendered: { search: string; offset: number }[] = [];
  const wrapper = ({ children }: { children: ReactNode }) => <MemoryRouter initialEntries={[url]}>{children}</MemoryRouter>;
  const hook = renderHook(
    () => {
      const list = useListParams("q");
      const location = useLocation();
      rendered.push({ search: list.search, offset: list.offset });
      return { ...list, url: location.pathname + location.search, navigation: useNavigationType(), navigate: useNavigate() };
    },
    { wrapper },
  );
  return { ...hook, rendered };
}

const wait = (ms: number) => act(() => vi.advanceTimersByTime(ms));

describe("useListParams", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("starts from the URL's filters and page, and leaves the URL alone", () => {
    const { result } = renderList("/devices?q=pump&status=ACTIVE&offset=50");
    expect(result.current.text).toBe("pump");
    expect(result.current.search).toBe("pump");
    expect(result.current.offset).toBe(50);
    expect(result.current.params.get("status")).toBe("ACTIVE");
    wait(1000);
    expect(result.current.url).toBe("/devices?q=pump&status=ACTIVE&offset=50");
  });

  it("reads a missing or broken offset as the first page", () => {
    expect(renderList("/devices").result.current.offset).toBe(0);
    expect(renderList("/devices?offset=abc").result.current.offset).toBe(0);
  });

  it("debounces the search text for 300 ms, trims it, and then replaces it into the URL on page one", () => {
    const { result } = renderList("/devices?status=ACTIVE&offset=50");
    act(() => result.current.setText("  pu"));
    expect(result.current.text).toBe("  pu");
    wait(200);
    act(() => result.current.setText("  pump "));
    wait(299);
    expect(result.current.search).toBe("");
    expect(result.current.url).toBe("/devices?status=ACTIVE&offset=50");

    wait(1);
    expect(result.current.search).toBe("pump");
    expect(result.current.offset).toBe(0);
    expect(result.current.url).toBe("/devices?status=ACTIVE&q=pump");
    expect(result.current.navigation).toBe("REPLACE");
  });

  it("never pairs a new search with the old page, so no list fetches a page of results it will not show", () => {
    const { result, rendered } = renderList("/devices?q=pump&offset=50");
    act(() => result.current.setText("valve"));
    wait(300);
    expect(result.current.url).toBe("/devices?q=valve");
    expect(rendered).toContainEqual({ search: "valve", offset: 0 });
    expect(rendered).not.toContainEqual({ search: "valve", offset: 50 });
  });

  it("follows a search the URL gets from elsewhere, such as Back or a link", () => {
    const { result } = renderList("/devices?q=pump&offset=50");
    act(() => void result.current.navigate("/devices?q=valve"));
    expect(result.current.search).toBe("valve");
    expect(result.current.text).toBe("valve");
    act(() => void result.current.navigate("/devices"));
    expect(result.current.text).toBe("");
    wait(1000);
    expect(result.current.url).toBe("/devices");

    act(() => result.current.update("offset", "25"));
    expect(result.current.offset).toBe(25);
  });

  it("drops the search from the URL once the text is cleared", () => {
    const { result } = renderList("/devices?q=pump");
    act(() => result.current.setText(" "));
    wait(300);
    expect(result.current.search).toBe("");
    expect(result.current.url).toBe("/devices");
  });

  it("pushes other filters, each resetting the page, and pages without resetting", () => {
    const { result } = renderList("/devices?q=pump&offset=50");
    act(() => result.current.update("status", "REVOKED"));
    expect(result.current.url).toBe("/devices?q=pump&status=REVOKED");
    expect(result.current.navigation).toBe("PUSH");

    act(() => result.current.update("offset", "25"));
    expect(result.current.url).toBe("/devices?q=pump&status=REVOKED&offset=25");
    expect(result.current.offset).toBe(25);

    act(() => result.current.update("status", null));
    expect(result.current.url).toBe("/devices?q=pump");
    expect(result.current.offset).toBe(0);
  });
});
