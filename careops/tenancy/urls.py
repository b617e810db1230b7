from django.urls import path

from careops.tenancy import views

app_name = "tenancy"
urlpatterns = [
    path("", views.org_list, name="list"),
    path("<int:pk>/", views.org_detail, name="detail"),
    path("<int:pk>/modifier/", views.org_edit, name="edit"),
    path("<int:parent_pk>/ajouter/", views.org_create, name="create"),
    path("<int:pk>/roles/", views.role_grant, name="role_grant"),
    path("roles/<int:pk>/retirer/", views.role_revoke, name="role_revoke"),
]
