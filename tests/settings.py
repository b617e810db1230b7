"""Test settings: the real settings, read with test defaults set in the environment first."""

import os
import tempfile

os.environ.setdefault("CAREOPS_DATA_DIR", tempfile.mkdtemp(prefix="careops-test-"))
os.environ.setdefault("CAREOPS_QUEUE_URL", "immediate")
os.environ.setdefault("CAREOPS_EMAIL_URL", "locmem://")
# One process runs the tests: its memory cache is enough (tests/security/test_throttling.py
# checks that the real settings pick a shared cache, and runs the throttle on the database one).
os.environ.setdefault("CAREOPS_CACHE_URL", "locmem://")

from careops.settings import *  # noqa: E402, F403

# Fast password hashing in tests only.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
