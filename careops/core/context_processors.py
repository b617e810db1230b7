"""Template context shared by every page."""

from careops.tenancy import scope


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    roles = scope.roles(user) if user is not None else set()
    return {
        "user_roles": roles,
        "is_programme_admin": "administrator" in roles,
    }
