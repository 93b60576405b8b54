"""acore_bot runtime-first launcher. Demo stand-in."""
