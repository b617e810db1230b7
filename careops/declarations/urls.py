from django.urls import path

from careops.declarations import views

app_name = "declarations"
urlpatterns = [
    path("", views.index, name="index"),
    path("candidater/", views.apply, name="apply"),
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("tableau-de-bord/export.<str:fmt>", views.export, name="export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/validation/", views.validate, name="validate"),
    path("<int:pk>/revue-avant-depot/", views.prefiling, name="prefiling"),
    path("<int:pk>/revue-avant-depot.pdf", views.prefiling_pdf, name="prefiling_pdf"),
    path("<int:pk>/depot/", views.file, name="file"),
    path("<int:pk>/instruction/", views.instruction, name="instruction"),
    path("<int:pk>/avis/", views.review, name="review"),
    path("<int:pk>/complements/<int:review_pk>/reponse/", views.answer, name="answer"),
    path("<int:pk>/transmission/", views.transmit, name="transmit"),
    path("<int:pk>/decision/", views.decide, name="decide"),
    path("<int:pk>/paiement/", views.pay, name="pay"),
    path("<int:pk>/dossier.zip", views.dossier, name="dossier"),
]
