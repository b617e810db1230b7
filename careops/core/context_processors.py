"""Template context shared by every page."""

from django.conf import settings

from careops.tenancy import scope


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    roles = scope.roles(user) if user is not None else set()
    return {
        "user_roles": roles,
        "is_programme_admin": "administrator" in roles,
        "OIDC_FEDERATIONS": bool(
            settings.SOCIALACCOUNT_PROVIDERS.get("careops_oidc", {}).get("APPS")
        ),
    }
