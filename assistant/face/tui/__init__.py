"""The terminal chat (Textual)."""
