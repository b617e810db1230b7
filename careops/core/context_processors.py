"""Template context shared by every page."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from careops.tenancy import scope

# The section of each app, for the default breadcrumb of pages that do not define their own.
SECTIONS = {
    "tenancy": (_("Organisations"), "tenancy:list"),
    "catalogue": (_("Référentiel"), "catalogue:index"),
    "compliance": (_("Preuves"), "compliance:library"),
    "exposure": (_("Exposition"), "exposure:index"),
    "directory": (_("Active Directory"), "directory:index"),
    "continuity": (_("Continuité"), "continuity:index"),
    "backups": (_("Sauvegardes"), "backups:index"),
    "declarations": (_("Déclarations"), "declarations:index"),
    "hospiconnect": (_("HospiConnect"), "hospiconnect:index"),
    "maturity": (_("Maturité"), "maturity:index"),
    "awareness": (_("Sensibilisation"), "awareness:index"),
    "exercises": (_("Exercices de crise"), "exercises:index"),
    "core": (_("Journal"), "core:audit"),
    "mfa": (_("Double authentification"), "mfa_index"),
}


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    roles = scope.roles(user) if user is not None else set()
    return {
        "user_roles": roles,
        "is_programme_admin": "administrator" in roles,
        "OIDC_FEDERATIONS": bool(
            settings.SOCIALACCOUNT_PROVIDERS.get("careops_oidc", {}).get("APPS")
        ),
        "section": section(request),
    }


def section(request) -> dict | None:
    """The page's section (label, URL, whether the page is the section's index), if any."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name == "core:home":
        return None
    found = SECTIONS.get(match.app_name or match.namespace) or (
        SECTIONS["mfa"] if match.url_name and match.url_name.startswith("mfa") else None
    )
    if found is None:
        return None
    label, name = found
    url = reverse(name)
    return {"label": label, "url": url, "current": request.path == url}
