from django.urls import path

from careops.continuity import views

app_name = "continuity"
urlpatterns = [path("", views.index, name="index")]
