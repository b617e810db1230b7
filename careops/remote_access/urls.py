from django.urls import path

from careops.remote_access import views

app_name = "remote_access"
urlpatterns = [
    path("", views.index, name="index"),
    path("nouveau/", views.path_edit, name="path_new"),
    path("<int:pk>/", views.path_detail, name="path"),
    path("<int:pk>/modifier/", views.path_edit, name="path_edit"),
    path("<int:pk>/attester/", views.attest, name="attest"),
    path("attestations/<int:pk>/decision/", views.decide, name="decide"),
    path("import/", views.import_inventory, name="import"),
    path("export.<str:fmt>", views.export, name="export"),
    path("modification-en-masse/", views.bulk, name="bulk"),
    path("revues/nouvelle/", views.review_new, name="review_new"),
    path("revues/<int:pk>/", views.review_detail, name="review"),
]
