"""acore_bot legacy entrypoint (DEPRECATED). Demo stand-in."""
