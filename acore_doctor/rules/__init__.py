"""Rules: pure functions from facts (probes) to problems, shared by checks and tools."""
