"""Choice sets of the declaration workflow, with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from careops.tenancy.choices import Role


class State(models.TextChoices):
    CANDIDACY_SUBMITTED = "candidacy_submitted", _("Candidature déposée")
    CANDIDACY_REJECTED = "candidacy_rejected", _("Candidature refusée")
    CANDIDACY_VALIDATED = "candidacy_validated", _("Candidature validée")
    DECLARED = "declared", _("Déclaration déposée — instruction ARS")
    ARS_INSTRUCTED = "ars_instructed", _("Instruite par l'ARS — instruction ANS")
    DECIDED = "decided", _("Décision rendue")
    PAID = "paid", _("Paiement effectué")


class Level(models.TextChoices):
    ARS = "ars", _("ARS")
    ANS = "ans", _("ANS")


class Verdict(models.TextChoices):
    COMPLIANT = "compliant", _("Conforme")
    NON_COMPLIANT = "non_compliant", _("Non conforme")
    COMPLEMENT = "complement_requested", _("Complément demandé")


class Decision(models.TextChoices):
    ACCEPTED = "accepted", _("Atteinte validée")
    PARTIAL = "partial", _("Atteinte partielle")
    REFUSED = "refused", _("Atteinte non validée")


# Who may act at each step, on a candidate their grant covers.
CANDIDATE_ROLES = {Role.ADMINISTRATOR, Role.GHT_RSSI, Role.ES_RSSI}
ANSWER_ROLES = CANDIDATE_ROLES | {Role.CONTRIBUTOR}
ARS_ROLES = {Role.ADMINISTRATOR, Role.ARS_INSTRUCTOR}
ANS_ROLES = {Role.ADMINISTRATOR, Role.ANS_INSTRUCTOR}
