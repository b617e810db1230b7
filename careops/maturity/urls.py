from django.urls import path

from careops.maturity import views

app_name = "maturity"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.campaign, name="campaign"),
    path("<int:pk>/resultat/", views.result, name="result"),
    path("<int:pk>/rapport.pdf", views.report_pdf, name="report_pdf"),
    path("<int:pk>/valider/", views.close, name="close"),
]
