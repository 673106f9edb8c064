"""What a data directory holds: catalogue, vectors, conversations, schema migrations, keeping the
vectors in step with the catalogue, and `check`."""
