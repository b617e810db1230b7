"""The one pagination of every API list: ``{items, count}``, ``limit`` and ``offset`` bounded.

Unbounded values reached the database as they were (an offset of 10**20 overflows SQLite's
integers: a 500); here they are refused with a 422 before any query.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


class BoundedPagination(LimitOffsetPagination):
    """``?limit=`` (1–500, default 100) and ``?offset=`` (0–1 000 000)."""

    class Input(Schema):
        limit: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE,
            ge=1,
            le=MAX_LIMIT,
            description=f"nombre d'éléments (1 à {MAX_LIMIT})",
        )
        offset: int = Field(
            0, ge=0, le=MAX_OFFSET, description=f"éléments à sauter (0 à {MAX_OFFSET})"
        )

    def paginate_queryset(self, queryset, pagination: Input, **params: Any):
        return super().paginate_queryset(queryset, pagination, **params)
