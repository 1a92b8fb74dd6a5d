import { Badge, Tooltip } from "@mantine/core";
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
    <Tooltip label={live ? "Pages update as changes happen" : "Live updates are down: pages refresh every few seconds"}>
      <Badge variant="dot" color={live ? "teal" : "gray"} data-testid="live-indicator" data-live={live}>
        {live ? "Live" : "Polling"}
      </Badge>
    </Tooltip>
  );
}
