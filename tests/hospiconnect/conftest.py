"""An S3 server on loopback for the shared-store test of pending exports."""

from tests.backups.conftest import moto_server  # noqa: F401 (fixture)
from tests.core.s3 import s3_bucket  # noqa: F401 (fixture)
