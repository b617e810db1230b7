"""Choice sets of the remote-access inventory, with translated labels (engine keys)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Population(models.TextChoices):
    VENDOR_TELEMAINTENANCE = "vendor_telemaintenance", _("Télémaintenance fournisseur")
    BIOMEDICAL_VENDOR = "biomedical_vendor", _("Fournisseur biomédical")
    STAFF_REMOTE_WORK = "staff_remote_work", _("Télétravail du personnel")
    IT_ADMIN_REMOTE = "it_admin_remote", _("Administration informatique à distance")
    PARTNER_ESTABLISHMENT = "partner_establishment", _("Établissement partenaire")


class Technology(models.TextChoices):
    IPSEC_VPN = "ipsec_vpn", _("VPN IPsec")
    TLS_VPN = "tls_vpn", _("VPN TLS")
    BASTION_PAM = "bastion_pam", _("Bastion / PAM")
    RDP_GATEWAY = "rdp_gateway", _("Passerelle RDP")
    VDI = "vdi", _("VDI")
    SSH = "ssh", _("SSH")
    VENDOR_TOOL = "vendor_tool", _("Outil fournisseur (TeamViewer, AnyDesk, ScreenConnect…)")
    MODEM = "modem_or_4g_router", _("Modem ou routeur 4G")
    CLOUD_AGENT = "cloud_agent", _("Agent cloud")


class AuthFactor(models.TextChoices):
    PASSWORD = "password", _("Mot de passe")
    TOTP = "totp", _("TOTP")
    FIDO2 = "fido2", _("FIDO2")
    SMARTCARD = "smartcard_cps", _("Carte CPS / carte à puce")
    CERTIFICATE = "certificate", _("Certificat")


class AccountModel(models.TextChoices):
    NOMINATIVE = "nominative", _("Nominatif")
    SHARED = "shared", _("Partagé")
    GENERIC_VENDOR = "generic_vendor", _("Générique fournisseur")


class Directory(models.TextChoices):
    PROD_AD = "prod_ad", _("AD de production")
    DEDICATED = "dedicated", _("Annuaire dédié")
    LOCAL = "local", _("Comptes locaux (bastion)")


class Activation(models.TextChoices):
    PERMANENT = "permanent", _("Permanent")
    ON_DEMAND = "on_demand", _("À la demande")
    TIME_BOUND = "time_bound", _("Limité dans le temps")


class PathStatus(models.TextChoices):
    ACTIVE = "active", _("En service")
    SUSPENDED = "suspended", _("Suspendu")
    RETIRED = "retired", _("Retiré")


class AttestationStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    ACCEPTED = "accepted", _("Acceptée")
    REJECTED = "rejected", _("Refusée")


CHECK_STATUS_LABELS = {
    "pass": _("conforme"),
    "fail": _("non conforme"),
    "unknown": _("inconnu"),
    "na": _("non applicable"),
}
BAND_LABELS = {
    "good": _("bon"),
    "acceptable": _("acceptable"),
    "insufficient": _("insuffisant"),
    "critical": _("critique"),
}
