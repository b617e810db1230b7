"""Login and callback of careops' OpenID Connect providers (mounted by allauth under /accounts/)."""

from django.urls import include, path, re_path

from careops.identity import views

urlpatterns = [
    re_path(
        r"^oidc/(?P<provider_id>[a-z0-9_-]+)/",
        include(
            [
                path("login/", views.login, name="careops_oidc_login"),
                path("login/callback/", views.callback, name="careops_oidc_callback"),
            ]
        ),
    )
]
