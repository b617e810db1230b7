"""The REST API (django-ninja), OpenAPI schema at /api/docs; every router uses scope.restrict."""

from ninja import NinjaAPI
from ninja.security import django_auth

from careops.core.tokens import TokenAuth

api = NinjaAPI(
    title="careops API",
    version="1",
    description="API de la plateforme careops (programme CaRE, axe 4).",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)

from careops.backups.api import router as backups_router  # noqa: E402
from careops.catalogue.api import router as catalogue_router  # noqa: E402
from careops.compliance.api import router as compliance_router  # noqa: E402
from careops.continuity.api import router as continuity_router  # noqa: E402
from careops.core.api import router as core_router  # noqa: E402
from careops.declarations.api import router as declarations_router  # noqa: E402
from careops.directory.api import router as directory_router  # noqa: E402
from careops.exposure.api import router as exposure_router  # noqa: E402
from careops.hospiconnect.api import router as hospiconnect_router  # noqa: E402
from careops.remote_access.api import router as remote_access_router  # noqa: E402
from careops.tenancy.api import router as tenancy_router  # noqa: E402

api.add_router("/system", core_router)
api.add_router("/organisations", tenancy_router)
api.add_router("/referential", catalogue_router)
api.add_router("/exposure", exposure_router)
api.add_router("/directory", directory_router)
api.add_router("/continuity", continuity_router)
api.add_router("/backups", backups_router)
api.add_router("/remote-access", remote_access_router)
api.add_router("/declarations", declarations_router)
api.add_router("/hospiconnect", hospiconnect_router)
api.add_router("/", compliance_router)
