from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaturityConfig(AppConfig):
    name = "careops.maturity"
    verbose_name = _("Maturité")

    def ready(self) -> None:
        from careops.maturity.pools import pooled_grants
        from careops.tenancy import scope

        # The pooled RSSI role: held through a pool's membership and convention (pools.py).
        if pooled_grants not in scope.GRANT_SOURCES:
            scope.GRANT_SOURCES.append(pooled_grants)
