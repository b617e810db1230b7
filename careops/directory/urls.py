from django.urls import path

from careops.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.index, name="index"),
    path("domaines/nouveau/", views.domain_edit, name="domain_new"),
    path("domaines/<int:pk>/", views.domain_detail, name="domain"),
    path("domaines/<int:pk>/modifier/", views.domain_edit, name="domain_edit"),
    path("domaines/<int:pk>/auditer/", views.audit_start, name="audit_start"),
    path("domaines/<int:pk>/importer/", views.audit_import, name="audit_import"),
    path("domaines/<int:pk>/derogations/", views.waiver_add, name="waiver_add"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
    path("audits/<int:pk>/rapport/", views.audit_report, name="report"),
    path("audits/<int:pk>/rapport.<str:fmt>", views.audit_report, name="report_fmt"),
    path("audits/<int:pk>/comparer/<int:other>/", views.audit_compare, name="compare"),
    path("convergence/<int:pk>/", views.convergence, name="convergence"),
    path("convergence/<int:pk>/preuves/", views.convergence_evidence, name="convergence_evidence"),
    path("convergence/<int:pk>/jalons/", views.milestone_add, name="milestone_add"),
    path(
        "convergence/<int:pk>/jalons/<int:milestone_pk>/atteint/",
        views.milestone_done,
        name="milestone_done",
    ),
    path(
        "convergence/<int:pk>/jalons/<int:milestone_pk>/supprimer/",
        views.milestone_delete,
        name="milestone_delete",
    ),
]
