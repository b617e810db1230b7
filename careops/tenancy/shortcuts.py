"""View helpers built on the restriction helper: fetch an object in scope, or 404."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from careops.tenancy import scope


def get_in_scope(source: type[Model] | QuerySet, user, action: str = "view", **lookup) -> Model:
    """Return the object matching ``lookup`` that the user may reach for ``action``, else 404.

    Objects out of scope and missing objects look the same, so existence does not leak.
    """
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    try:
        found = scope.restrict(queryset, user, action).filter(**lookup).first()
    except (ValueError, TypeError, OverflowError):  # « ?candidate=x », an id past 64 bits
        found = None
    if found is None:
        raise Http404(_("Objet introuvable."))
    return found
