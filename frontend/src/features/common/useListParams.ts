// A list page's filters, kept in the URL so that they survive reloads and links: a debounced search text
// under `textKey`, other filters set with `update`, and the page offset, which any filter change resets.

import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";

export function useListParams(textKey: string) {
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get(textKey) ?? "");
  const [search] = useDebouncedValue(text.trim(), 300);
  const offset = Number(params.get("offset") ?? 0) || 0;

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
  useEffect(() => {
    if ((params.get(textKey) ?? "") !== search) update(textKey, search);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  return { params, text, setText, search, offset, update };
}
