from django.urls import path

from careops.exposure import views

app_name = "exposure"
urlpatterns = [
    path("", views.index, name="index"),
    path("organisations/<int:pk>/", views.organisation, name="organisation"),
    path("organisations/<int:pk>/audit/", views.run_start, name="run_start"),
    path("organisations/<int:pk>/audit-interne/", views.internal_audit, name="internal_audit"),
    path("actifs/<int:pk>/", views.asset_detail, name="asset"),
    path("actifs/<int:pk>/verifier/", views.asset_verify, name="asset_verify"),
    path("actifs/<int:pk>/attestation/", views.asset_attest, name="asset_attest"),
    path("actifs/<int:pk>/approbation/", views.asset_approve, name="asset_approve"),
    path("audits/<int:pk>/", views.run_detail, name="run"),
    path("audits/<int:pk>/progression/", views.run_progress, name="run_progress"),
    path("audits/<int:pk>/annuler/", views.run_cancel, name="run_cancel"),
    path("audits/<int:pk>/rapport.<str:fmt>", views.run_report, name="run_report"),
    path("constats/<int:pk>/", views.finding_detail, name="finding"),
]
