"""IoT Jobs: job documents fanned out to device executions, with AWS IoT Jobs semantics."""
