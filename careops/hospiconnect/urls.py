from django.urls import path

from careops.hospiconnect import views

app_name = "hospiconnect"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.organisation, name="organisation"),
    path("<int:pk>/mesure/", views.import_new, name="import_new"),
    path("<int:pk>/mie/", views.means, name="means"),
    path("mie/<int:pk>/revoquer/", views.means_revoke, name="means_revoke"),
    path("mesures/<int:pk>/", views.import_detail, name="import"),
    path("mesures/<int:pk>/comptes-<str:indicator>.csv", views.failing_csv, name="failing_csv"),
    path("revues/<int:pk>/", views.review, name="review"),
]
