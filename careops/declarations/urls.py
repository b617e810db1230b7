from django.urls import path

from careops.declarations import views

app_name = "declarations"
urlpatterns = [path("", views.index, name="index")]
