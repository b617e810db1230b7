from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    MET = "met", _("Atteint")
    PARTIAL = "partial", _("Partiellement atteint")
    NOT_MET = "not_met", _("Non atteint")
    MISSING_EVIDENCE = "missing_evidence", _("Preuve manquante")
    NOT_APPLICABLE = "not_applicable", _("Non applicable")


class Validator(models.TextChoices):
    NONE = "", _("—")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Représentant légal")
    MANAGEMENT_BODY = "management_body", _("Instance de direction")
    RSSI = "rssi", _("RSSI")
    DPO = "dpo", _("DPO")
