"""One module per scenario (B1..B5); each exposes `run(ctx) -> list[Result]`."""
