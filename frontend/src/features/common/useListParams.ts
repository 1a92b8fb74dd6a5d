// A list page's filters, kept in the URL so that they survive reloads and links: a debounced search text
// under `textKey`, other filters set with `update`, and the page offset, which any filter change resets.
// The URL is what the list shows: `search` and `offset` are read from it, so they always change together.

import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";

export function useListParams(textKey: string) {
  const [params, setParams] = useSearchParams();
  const search = params.get(textKey) ?? "";
  const offset = Number(params.get("offset") ?? 0) || 0;
  const [text, setText] = useState(search);
  const [typed] = useDebouncedValue(text.trim(), 300);

  const update = (key: string, value: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(key, value);
        else next.delete(key);
        if (key !== "offset") next.delete("offset");
        return next;
      },
      { replace: key === textKey },
    );
  // The text reaches the URL (back on page one) 300 ms after the last keystroke...
  useEffect(() => {
    if (typed !== search) update(textKey, typed);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typed]);
  // ...and a search the URL got elsewhere (Back, a link) shows in the text box.
  useEffect(() => {
    if (search !== typed) setText(search);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  return { params, text, setText, search, offset, update };
}
