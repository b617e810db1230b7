"""The cockpit tests reuse the declaration fixtures (a test domain, people per role); the
storage tests an S3 server on loopback."""

from tests.backups.conftest import moto_server  # noqa: F401 (fixture)
from tests.core.s3 import s3_bucket  # noqa: F401 (fixture)
from tests.declarations.conftest import (  # noqa: F401 (fixtures)
    _media,
    declared,
    evidence,
    people,
    validated,
    version,
)
