from django.urls import path

from careops.backups import views

app_name = "backups"
urlpatterns = [path("", views.index, name="index")]
