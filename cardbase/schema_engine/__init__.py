"""The schema engine: metadata model, field-type registry, physical DDL, record store,
query compiler. Knows nothing of Flask, so scripts, tests, the CLI and workers can use it."""
