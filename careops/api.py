"""The REST API (django-ninja), OpenAPI schema at /api/docs; every router uses scope.restrict."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from ninja import NinjaAPI

from careops.core.middleware import session_satisfies_mfa
from careops.core.tokens import MfaSessionAuth, TokenAuth


def docs_behind_login(view):
    """The API documentation and schema: for signed-in users whose MFA rule is met."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not session_satisfies_mfa(request, request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="careops API",
    version="1",
    description=(
        "API de la plateforme careops (programme CaRE, axe 4). Authentification : jeton "
        "`Authorization: Bearer cop_…` (créé sur /compte/jetons/ ou par `careops token create`) "
        "ou session du navigateur, une fois la double authentification faite pour les rôles qui "
        "l'exigent. Un jeton en lecture seule est refusé (403) sur POST, PUT, PATCH et DELETE. "
        "Les listes répondent `{items, count}` ; `limit` (1–500) et `offset` (0–1 000 000) "
        "sont bornés (422 au-delà)."
    ),
    auth=[TokenAuth(), MfaSessionAuth()],
    urls_namespace="api",
    docs_decorator=docs_behind_login,
)

from careops.backups.api import router as backups_router  # noqa: E402
from careops.catalogue.api import router as catalogue_router  # noqa: E402
from careops.compliance.api import router as compliance_router  # noqa: E402
from careops.continuity.api import router as continuity_router  # noqa: E402
from careops.core.api import router as core_router  # noqa: E402
from careops.declarations.api import router as declarations_router  # noqa: E402
from careops.directory.api import router as directory_router  # noqa: E402
from careops.exposure.api import router as exposure_router  # noqa: E402
from careops.tenancy.api import router as tenancy_router  # noqa: E402

api.add_router("/system", core_router)
api.add_router("/organisations", tenancy_router)
api.add_router("/referential", catalogue_router)
api.add_router("/exposure", exposure_router)
api.add_router("/directory", directory_router)
api.add_router("/continuity", continuity_router)
api.add_router("/backups", backups_router)
api.add_router("/declarations", declarations_router)
api.add_router("/", compliance_router)
