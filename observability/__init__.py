"""Request IDs, structured logs and error reporting."""
