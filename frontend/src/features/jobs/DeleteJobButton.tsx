// Delete a job for good (AWS DeleteJob), behind a confirmation that says what is lost. A running job with
// active executions needs "force": the API's 409 says so, and the confirmation then offers it.

import { Alert, Button, Checkbox, List, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useNavigate } from "react-router-dom";

import type { JobCounts, JobStatus } from "../../services/api/jobs";
import { fetchClient } from "../../services/api/openapi";
import { JobActionModal, useJobAction } from "./JobActionModal";
import { needsForce } from "./forceNeeded";
import { answer, removeJob } from "./jobQueries";

export function DeleteJobButton({ jobId, status, counts }: { jobId: string; status: JobStatus; counts: JobCounts }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [force, setForce] = useState(false);
  const forceRef = useRef(false); // read by the request, so "Delete with force" sends it in the same click
  const active = counts.queued + counts.in_progress;
  const action = useJobAction(
    jobId,
    () =>
      answer(
        fetchClient.POST("/customer/jobs/{job_id}/delete", {
          params: { path: { job_id: jobId } },
          body: { force: forceRef.current },
        }),
      ),
    (out) => {
      setOpen(false);
      removeJob(queryClient, jobId);
      const n = out.deleted_executions;
      notifications.show({ color: "teal", title: "Job deleted", message: `${jobId}: ${n} execution${n === 1 ? "" : "s"} deleted` });
      navigate("/jobs");
    },
  );
  const setForced = (value: boolean) => {
    forceRef.current = value;
    setForce(value);
  };
  const close = () => {
    setOpen(false);
    setForced(false);
    action.reset();
  };
  const refusedForForce = needsForce(action.error);
  return (
    <>
      <Button color="red" variant="outline" onClick={() => setOpen(true)}>
        Delete job
      </Button>
      <JobActionModal
        opened={open}
        onClose={close}
        title={`Delete job ${jobId}?`}
        action={action}
        color="red"
        keepLabel="Keep it"
        confirmLabel={force ? "Delete with force" : "Delete job"}
      >
        <Text size="sm">Deleting is for good (AWS DeleteJob):</Text>
        <List size="sm" spacing={4}>
          <List.Item>
            The job, its executions and their history are <b>gone</b> from every list and page; this cannot be undone.
            (Cancel keeps them; delete does not.)
          </List.Item>
          <List.Item>
            A job that is IN_PROGRESS with QUEUED or IN_PROGRESS executions is deleted only with <b>force</b>
            {status === "IN_PROGRESS" && active > 0 ? (
              <>
                {" "}
                (this one has <b>{active}</b>)
              </>
            ) : null}
            : devices working on it get <b>404</b> on their next update, and their work is not recorded.
          </List.Item>
          <List.Item>The job id becomes free again once the deletion has finished.</List.Item>
        </List>
        <Checkbox
          label="Force: delete even with QUEUED or IN_PROGRESS executions"
          checked={force}
          onChange={(e) => setForced(e.currentTarget.checked)}
        />
        {refusedForForce && !force && (
          <Alert color="orange" title="This job needs force" data-testid="force-needed">
            <Text size="sm" mb="xs">
              Devices are still working on it. Deleting with force removes their executions too; each such device gets
              404 on its next update.
            </Text>
            <Button
              color="red"
              size="xs"
              onClick={() => {
                setForced(true);
                action.mutate();
              }}
            >
              Delete with force
            </Button>
          </Alert>
        )}
      </JobActionModal>
    </>
  );
}
