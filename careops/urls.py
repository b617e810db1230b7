"""URL map: each app brings its own urls module; the API lives under /api/.

There is no Django admin: every change goes through the pages and services, which apply the
role rules, the MFA rule, login throttling and the audit trail.
"""

from django.urls import include, path

from careops.api import api

urlpatterns = [
    path("", include("careops.core.urls")),
    path("organisations/", include("careops.tenancy.urls")),
    path("referentiel/", include("careops.catalogue.urls")),
    path("", include("careops.compliance.urls")),
    path("exposition/", include("careops.exposure.urls")),
    path("annuaires/", include("careops.directory.urls")),
    path("continuite/", include("careops.continuity.urls")),
    path("sauvegardes/", include("careops.backups.urls")),
    path("acces-distants/", include("careops.remote_access.urls")),
    path("declarations/", include("careops.declarations.urls")),
    path("hospiconnect/", include("careops.hospiconnect.urls")),
    path("maturite/", include("careops.maturity.urls")),
    path("sensibilisation/", include("careops.awareness.urls")),
    path("exercices/", include("careops.exercises.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
]
