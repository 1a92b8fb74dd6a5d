import { describe, expect, it } from "vitest";

import {
  NOTHING,
  allMatching,
  describeSelection,
  isSelected,
  pageState,
  selectedCount,
  selectionBody,
  toggle,
  togglePage,
} from "./selection";

describe("the devices list's selection", () => {
  it("picks devices one by one, and a page at a time", () => {
    let s = toggle(NOTHING, "a");
    s = toggle(s, "b");
    expect(selectedCount(s)).toBe(2);
    expect(pageState(s, ["a", "b", "c"])).toBe("some");
    s = togglePage(s, ["a", "b", "c"]);
    expect(pageState(s, ["a", "b", "c"])).toBe("all");
    expect(selectionBody(s)).toEqual({ device_ids: ["a", "b", "c"] });
    s = toggle(s, "b");
    expect(isSelected(s, "b")).toBe(false);
    expect(pageState(s, ["d", "e"])).toBe("none");
    // the header checkbox of a fully selected page unselects that page only
    s = togglePage(togglePage(s, ["d", "e"]), ["d", "e"]);
    expect(s).toEqual({ kind: "ids", ids: ["a", "c"] });
  });

  it("selects all matching the filters as a filter the server resolves, not as ids", () => {
    const s = allMatching({ q: "pump", status: "ACTIVE" }, 1234);
    expect(selectedCount(s)).toBe(1234);
    expect(isSelected(s, "anything")).toBe(true);
    expect(toggle(s, "x")).toBe(s); // one device cannot be unpicked from "all matching"
    expect(togglePage(s, ["x"])).toEqual(NOTHING);
    expect(selectionBody(s)).toEqual({ matching: { q: "pump", status: "ACTIVE" } });
    expect(selectionBody(allMatching({}, 3))).toEqual({ matching: { q: null, status: null } });
  });

  it("says what is selected in words", () => {
    expect(describeSelection(toggle(NOTHING, "a"))).toBe("1 device");
    expect(describeSelection(allMatching({ q: "pump", status: "ACTIVE" }, 120))).toBe("all 120 devices matching “pump”, ACTIVE");
    expect(describeSelection(allMatching({}, 7))).toBe("all 7 devices");
  });
});
