from django.apps import AppConfig


class RemoteAccessConfig(AppConfig):
    name = "careops.remote_access"
    label = "remote_access"
    verbose_name = "Accès distants (D3)"
