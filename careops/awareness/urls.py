from django.urls import path

from careops.awareness import views

app_name = "awareness"
urlpatterns = [
    path("", views.index, name="index"),
    path("formations/<int:pk>/", views.campaign, name="campaign"),
    path(
        "formations/<int:pk>/seances/<int:session_pk>/emargement/",
        views.import_sheet,
        name="import_sheet",
    ),
    path("formations/<int:pk>/cloturer/", views.close, name="close"),
    path("effectifs/", views.headcounts, name="headcounts"),
    path("parts/", views.shares, name="shares"),
    path("parts/export.<str:fmt>", views.shares_export, name="shares_export"),
    path("hameconnage/", views.phishing, name="phishing"),
    path("hameconnage/<int:pk>/", views.phishing_detail, name="phishing_detail"),
    path("hameconnage/<int:pk>/supprimer/", views.phishing_delete, name="phishing_delete"),
    path("hameconnage/export.<str:fmt>", views.phishing_export, name="phishing_export"),
]
