from django.urls import path

from careops.maturity import views

app_name = "maturity"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.campaign, name="campaign"),
    path("<int:pk>/resultat/", views.result, name="result"),
    path("<int:pk>/rapport.pdf", views.report_pdf, name="report_pdf"),
    path("<int:pk>/valider/", views.close, name="close"),
    path("structures/", views.structures, name="structures"),
    path("structures/<int:pk>/", views.structure, name="structure"),
    path("structures/<int:pk>/plan-nis2/", views.nis2_plan, name="nis2_plan"),
    path("structures/<int:pk>/plan-nis2.csv", views.nis2_plan, {"fmt": "csv"}, name="nis2_csv"),
    path("structures/<int:pk>/plan-nis2.xlsx", views.nis2_plan, {"fmt": "xlsx"}, name="nis2_xlsx"),
    path("mutualisations/", views.pool_list, name="pools"),
    path("mutualisations/<int:pk>/", views.pool_detail, name="pool"),
    path("conventions/<int:pk>/", views.convention_download, name="convention"),
]
