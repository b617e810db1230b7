from django.urls import path

from careops.backups import views

app_name = "backups"
urlpatterns = [
    path("", views.index, name="index"),
    path("systemes/nouveau/", views.system_edit, name="system_new"),
    path("systemes/<int:pk>/", views.system_detail, name="system"),
    path("systemes/<int:pk>/modifier/", views.system_edit, name="system_edit"),
    path("systemes/<int:pk>/preuve/", views.system_evidence, name="system_evidence"),
    path("trajectoires/nouvelle/", views.trajectory_edit, name="trajectory_new"),
    path("trajectoires/<int:pk>/", views.trajectory_detail, name="trajectory"),
    path("trajectoires/<int:pk>/modifier/", views.trajectory_edit, name="trajectory_edit"),
    path("trajectoires/<int:pk>/preuve/", views.trajectory_evidence, name="trajectory_evidence"),
    path("depots/nouveau/", views.repository_edit, name="repository_new"),
    path("depots/<int:pk>/", views.repository_detail, name="repository"),
    path("depots/<int:pk>/modifier/", views.repository_edit, name="repository_edit"),
    path("depots/<int:pk>/lancer/<str:kind>/", views.repository_run, name="repository_run"),
    path("proteges/nouveau/", views.protected_edit, name="protected_new"),
    path("proteges/<int:pk>/modifier/", views.protected_edit, name="protected_edit"),
    path("verifications/<int:pk>/", views.run_detail, name="run"),
    path("verifications/<int:pk>/preuve/", views.run_evidence, name="run_evidence"),
    path("alertes/", views.alerts, name="alerts"),
    path("alertes/<int:pk>/acquitter/", views.alert_acknowledge, name="alert_ack"),
    path("taches/import/", views.jobs_import, name="jobs_import"),
    path("preuves/<str:kind>/", views.organisation_evidence, name="org_evidence"),
]
