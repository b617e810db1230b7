from django.urls import path

from careops.core import metrics, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("journal/", views.audit_log, name="audit"),
    path("compte/jetons/", views.token_list, name="tokens"),
    path("compte/jetons/<int:pk>/revoquer/", views.token_revoke, name="token_revoke"),
    path("securite/cibles-internes/", views.internal_targets, name="internal_targets"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
