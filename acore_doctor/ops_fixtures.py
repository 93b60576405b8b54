"""pytest plugin module: fixtures and options for one area of checks (see ARCHITECTURE.md)."""
