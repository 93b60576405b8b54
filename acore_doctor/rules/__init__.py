"""Rules: pure functions from facts to problems, shared by the checks and the tools."""
