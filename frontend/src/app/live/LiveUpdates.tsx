import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { useSession } from "../SessionContext";
import { startLiveUpdates } from "./liveUpdates";

/** Mounted once in the app shell: the live stream while someone is signed in. */
export function LiveUpdates() {
  const queryClient = useQueryClient();
  const token = useSession()?.token;
  useEffect(() => (token ? startLiveUpdates(queryClient, token) : undefined), [queryClient, token]);
  return null;
}
