from django.urls import path

from careops.compliance import views

app_name = "compliance"
urlpatterns = [
    path("evaluations/<int:pk>/", views.assessment_detail, name="assessment"),
    path("evaluations/<int:pk>/modifier/", views.assessment_edit, name="assessment_edit"),
    path(
        "organisations/<int:org_pk>/evaluations/ouvrir/",
        views.assessment_open,
        name="assessment_open",
    ),
    path("evaluations/<int:pk>/exigences/<str:code>/", views.item_detail, name="item"),
    path(
        "evaluations/<int:pk>/exigences/<str:code>/preuves/",
        views.evidence_upload,
        name="evidence_upload",
    ),
    path("preuves/", views.evidence_library, name="library"),
    path("preuves/<int:pk>/", views.evidence_detail, name="evidence"),
    path("fichiers/<int:pk>/", views.file_download, name="file"),
]
