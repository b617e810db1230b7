"""Security tests: every test starts with empty rate-limit and throttling counters (the
suite-wide ``_empty_cache`` fixture of tests/conftest.py)."""
