"""Choice sets of the organisation tree, with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    ANS = "ans", _("Agence du numérique en santé")
    ARS = "ars", _("Agence régionale de santé")
    GHT = "ght", _("Groupement hospitalier de territoire")
    EJ = "ej", _("Entité juridique (FINESS EJ)")
    EG = "eg", _("Établissement / site (FINESS EG)")
    ESMS = "esms", _("Structure médico-sociale")


class Category(models.TextChoices):
    GHT = "ght", _("GHT")
    PUBLIC = "public", _("Public hors GHT")
    PRIVATE_NONPROFIT = "private_nonprofit", _("Privé non lucratif")
    PRIVATE_FORPROFIT = "private_forprofit", _("Privé lucratif")
    MEDICO_SOCIAL = "medico_social", _("Médico-social")
    REGULATOR = "regulator", _("Régulateur")


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrateur du programme")
    ANS_INSTRUCTOR = "ans_instructor", _("Instructeur ANS")
    ARS_INSTRUCTOR = "ars_instructor", _("Instructeur ARS")
    GHT_RSSI = "ght_rssi", _("RSSI de GHT")
    ES_RSSI = "es_rssi", _("RSSI d'établissement")
    CONTRIBUTOR = "contributor", _("Contributeur")
    READER = "reader", _("Lecteur")
    VENDOR = "vendor", _("Fournisseur (accès distants)")


# Which roles may do what on the nodes they are granted. Declarations and instruction
# (a later issue) add their own actions here.
ACTION_ROLES: dict[str, set[str]] = {
    # A vendor sees nothing through "view": only its own remote-access paths (vendor_attest).
    "view": {r.value for r in Role} - {Role.VENDOR},
    "change": {Role.ADMINISTRATOR, Role.GHT_RSSI, Role.ES_RSSI, Role.CONTRIBUTOR},
    "manage": {Role.ADMINISTRATOR, Role.GHT_RSSI, Role.ES_RSSI},
    "instruct": {Role.ADMINISTRATOR, Role.ANS_INSTRUCTOR, Role.ARS_INSTRUCTOR},
    "vendor_attest": {Role.VENDOR},
}

# Kinds a node may have under a parent of a given kind.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    "": {OrgKind.ANS},
    OrgKind.ANS: {OrgKind.ARS},
    OrgKind.ARS: {OrgKind.GHT, OrgKind.EJ, OrgKind.ESMS},
    OrgKind.GHT: {OrgKind.EJ, OrgKind.ESMS},
    OrgKind.EJ: {OrgKind.EG, OrgKind.ESMS},
    OrgKind.EG: set(),
    OrgKind.ESMS: {OrgKind.EG},
}

# The 18 regions, each with its ARS (INSEE region code, name).
REGIONS: list[tuple[str, str]] = [
    ("84", "Auvergne-Rhône-Alpes"),
    ("27", "Bourgogne-Franche-Comté"),
    ("53", "Bretagne"),
    ("24", "Centre-Val de Loire"),
    ("94", "Corse"),
    ("44", "Grand Est"),
    ("32", "Hauts-de-France"),
    ("11", "Île-de-France"),
    ("28", "Normandie"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("52", "Pays de la Loire"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
]

# Roles a holder of a role may grant to others (never above their own).
GRANTABLE: dict[str, set[str]] = {
    Role.ADMINISTRATOR: {r.value for r in Role},
    Role.GHT_RSSI: {Role.GHT_RSSI, Role.ES_RSSI, Role.CONTRIBUTOR, Role.READER, Role.VENDOR},
    Role.ES_RSSI: {Role.ES_RSSI, Role.CONTRIBUTOR, Role.READER, Role.VENDOR},
}
