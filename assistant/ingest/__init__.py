"""Getting papers in: one reader per input format, dedupe, and the incremental ingest pipeline."""
