"""assistant: a local, offline research assistant over paper abstracts."""

__version__ = "0.1.0"
