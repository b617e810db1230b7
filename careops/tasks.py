"""The task queue shared by every app (Huey; SQLite storage embedded, Redis at scale)."""

from huey.contrib.djhuey import HUEY as huey  # noqa: F401  (re-exported for apps)
