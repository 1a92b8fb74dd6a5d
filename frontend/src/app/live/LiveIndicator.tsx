import { Badge } from "@mantine/core";
import { useSyncExternalStore } from "react";

import { isLive, onLiveChange } from "./liveState";

const subscribe = (listener: () => void) => {
  const off = onLiveChange(listener);
  return () => void off();
};

/** Whether pages update live (the event stream is up) or by polling. */
export function LiveIndicator() {
  const live = useSyncExternalStore(subscribe, isLive);
  return (
    // A native title, not Mantine's Tooltip: the shell stays free of the floating-ui code (the first load's budget).
    <Badge
      variant="dot"
      color={live ? "teal" : "gray"}
      data-testid="live-indicator"
      data-live={live}
      title={live ? "Pages update as changes happen" : "Live updates are down: pages refresh every few seconds"}
    >
      {live ? "Live" : "Polling"}
    </Badge>
  );
}
