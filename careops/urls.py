"""URL map: each app brings its own urls module; the API lives under /api/."""

from django.contrib import admin
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
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
