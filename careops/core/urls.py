from django.urls import path

from careops.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("journal/", views.audit_log, name="audit"),
    path("securite/cibles-internes/", views.internal_targets, name="internal_targets"),
]
