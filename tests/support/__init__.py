"""Helpers for acore-doctor's own tests: builders, generators and ways to run the suite.

Imported by tests in tests/unit and tests/e2e and by bench/; fixtures stay in tests/conftest.py.
"""
