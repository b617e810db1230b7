from django.urls import path

from careops.tenancy import views

app_name = "tenancy"
urlpatterns = [
    path("", views.org_list, name="list"),
    path("<int:pk>/", views.org_detail, name="detail"),
    path("<int:pk>/modifier/", views.org_edit, name="edit"),
    path("<int:parent_pk>/ajouter/", views.org_create, name="create"),
]
