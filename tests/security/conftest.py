"""Security tests: every test starts with empty rate-limit and throttling counters."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
