from django.urls import path

from careops.continuity import views

app_name = "continuity"
urlpatterns = [
    path("", views.index, name="index"),
    path("campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path("campagnes/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campagnes/<int:pk>/pcra/", views.campaign_edit, name="campaign_edit"),
    path("campagnes/<int:pk>/valider/", views.campaign_validate, name="campaign_validate"),
    path(
        "campagnes/<int:pk>/nouvelle-version/",
        views.campaign_new_version,
        name="campaign_new_version",
    ),
    path("campagnes/<int:pk>/import/", views.campaign_import, name="campaign_import"),
    path("campagnes/<int:pk>/bia.xlsx", views.export_xlsx, name="export_xlsx"),
    path("campagnes/<int:pk>/pcra.docx", views.export_docx, name="export_docx"),
    path("campagnes/<int:pk>/pcra.pdf", views.export_pdf, name="export_pdf"),
    path("campagnes/<int:pk>/activites/<int:activity_pk>/", views.activity_detail, name="activity"),
    path("campagnes/<int:pk>/activites/<int:activity_pk>/cotation/", views.rate, name="rate"),
    path("campagnes/<int:pk>/activites/<int:activity_pk>/grille/", views.rate_all, name="rate_all"),
    path("campagnes/<int:pk>/<slug:kind>/ajouter/", views.child_form, name="child_add"),
    path("campagnes/<int:pk>/<slug:kind>/<int:item_pk>/", views.child_form, name="child_edit"),
    path(
        "campagnes/<int:pk>/<slug:kind>/<int:item_pk>/supprimer/",
        views.child_delete,
        name="child_delete",
    ),
    path(
        "campagnes/<int:pk>/exercices/<int:exercise_pk>/preuve/",
        views.exercise_evidence,
        name="exercise_evidence",
    ),
    path("couverture/<int:org_pk>/", views.coverage, name="coverage"),
]
