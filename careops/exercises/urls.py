from django.urls import path

from careops.exercises import views

app_name = "exercises"
urlpatterns = [
    path("", views.index, name="index"),
    path("scenarios/<slug:ident>/", views.scenario, name="scenario"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/participants/", views.participant_add, name="participant_add"),
    path(
        "<int:pk>/participants/<int:participant_pk>/retirer/",
        views.participant_delete,
        name="participant_delete",
    ),
    path("<int:pk>/injects/nouveau/", views.inject_edit, name="inject_add"),
    path("<int:pk>/injects/<int:inject_pk>/", views.inject_edit, name="inject_edit"),
    path("<int:pk>/conduite/", views.live, name="live"),
    path("<int:pk>/conduite/chrono/", views.clock_move, name="clock"),
    path("<int:pk>/conduite/injects/<int:inject_pk>/delivre/", views.deliver, name="deliver"),
    path("<int:pk>/conduite/main-courante/", views.log_add, name="log_add"),
    path("<int:pk>/grille/", views.grid, name="grid"),
    path("<int:pk>/retex/", views.retex, name="retex"),
    path("<int:pk>/retex/actions/<int:action_pk>/", views.action_status, name="action_status"),
    path("<int:pk>/continuite/", views.link, name="link"),
    path("<int:pk>/dossier.pdf", views.file_pdf, name="file_pdf"),
]
