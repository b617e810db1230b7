"""The cockpit tests reuse the declaration fixtures (a test domain, people per role)."""

from tests.declarations.conftest import (  # noqa: F401 (fixtures)
    _media,
    declared,
    evidence,
    people,
    validated,
    version,
)
