"""BIA campaigns per entity (versions, validation), their activities, ratings, resources,
dependencies and degraded-mode needs, and the PCRA built on them (scenarios, crisis cell,
procedures, exercises and lessons-learned actions)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from careops.continuity.engine import model as engine

CODE_VALIDATOR = RegexValidator(r"^[\w.\-/]{1,40}$", _("Lettres, chiffres, _ . - / uniquement."))
HOURS = {"max_digits": 9, "decimal_places": 2, "null": True, "blank": True}


def default_method() -> dict:
    """The default rating method, as stored on a campaign."""
    return method_to_json(engine.Method())


def method_to_json(method: engine.Method) -> dict:
    return {
        "horizons": [[h.label, h.seconds] for h in method.horizons],
        "impact_types": [[t.code, t.label] for t in method.impact_types],
        "levels": list(method.levels),
        "threshold": method.threshold,
        "priority_classes": [[p.code, p.label, p.max_seconds] for p in method.priority_classes],
    }


def method_from_json(data: dict) -> engine.Method:
    return engine.Method(
        horizons=tuple(engine.Horizon(label, seconds) for label, seconds in data["horizons"]),
        impact_types=tuple(engine.ImpactType(c, label) for c, label in data["impact_types"]),
        levels=tuple(data["levels"]),
        threshold=int(data["threshold"]),
        priority_classes=tuple(engine.PriorityClass(*p) for p in data["priority_classes"]),
    )


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("brouillon")
    VALIDATED = "validated", _("validée")
    ARCHIVED = "archived", _("archivée")


class Campaign(models.Model):
    """One version of an entity's BIA and PCRA."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.PROTECT, related_name="bia_campaigns"
    )
    title = models.CharField(_("titre"), max_length=200)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("statut"), max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    method = models.JSONField(_("méthode de cotation"), default=default_method)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validated_at = models.DateTimeField(_("validée le"), null=True, blank=True)
    next_review_on = models.DateField(_("prochaine revue"), null=True, blank=True)
    # Governance (D2.O1.A) and PCRA (D2.O1.B, D2.O1.C)
    governance = models.TextField(_("schéma de gouvernance de la continuité"), blank=True)
    governance_body = models.CharField(_("instance de direction"), max_length=200, blank=True)
    governance_approved_on = models.DateField(_("approuvé le"), null=True, blank=True)
    activation_criteria = models.TextField(_("critères de déclenchement du PCRA"), blank=True)
    white_plan_link = models.TextField(
        _("articulation avec le plan blanc"),
        blank=True,
        help_text=_("Comment le risque numérique est intégré au plan blanc."),
    )
    communication_plan = models.TextField(_("plan de communication"), blank=True)
    pcri_reference = models.CharField(
        _("référence du plan de reprise informatique"), max_length=200, blank=True
    )

    class Meta:
        ordering = ["organisation__path", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "version"], name="unique_bia_version")
        ]
        verbose_name = _("campagne BIA")
        verbose_name_plural = _("campagnes BIA")

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    def engine_method(self) -> engine.Method:
        return method_from_json(self.method)


class ActivityKind(models.TextChoices):
    CARE_SERVICE = "care_service", _("Service de soins")
    TECHNICAL_PLATFORM = "technical_platform", _("Plateau technique")
    ADMINISTRATIVE = "administrative", _("Processus administratif")
    SUPPORT = "support", _("Fonction support")


class Activity(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="activities")
    code = models.CharField(_("code"), max_length=40, validators=[CODE_VALIDATOR])
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=24, choices=ActivityKind.choices)
    entity = models.CharField(_("FINESS de l'entité"), max_length=20, blank=True)
    owner = models.CharField(_("responsable"), max_length=200, blank=True)
    patient_impact_major = models.BooleanField(
        _("impact majeur sur la prise en charge"), default=False
    )
    rto_hours = models.DecimalField(_("RTO visé (heures)"), **HOURS)
    rpo_hours = models.DecimalField(_("PDMA (heures)"), **HOURS)
    dmia_override_hours = models.DecimalField(
        _("DMIA forcée (heures)"), help_text=_("Laisser vide : la DMIA est calculée."), **HOURS
    )
    dmia_override_reason = models.CharField(_("motif du forçage"), max_length=300, blank=True)
    mbco = models.TextField(_("niveau de service minimal"), blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="unique_activity_code")
        ]
        verbose_name = _("activité")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Rating(models.Model):
    tenant_path = "activity__campaign__organisation"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="ratings")
    impact_type = models.CharField(max_length=40)
    horizon = models.CharField(max_length=40)
    level = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "impact_type", "horizon"], name="unique_rating_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.impact_type}@{self.horizon}={self.level}"


class ResourceKind(models.TextChoices):
    APPLICATION = "application", _("Application")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    SITE = "site", _("Site")
    SUPPLIER = "supplier", _("Fournisseur")
    STAFF_ROLE = "staff_role", _("Rôle du personnel")
    EQUIPMENT = "equipment", _("Équipement biomédical")
    CONSUMABLE = "consumable", _("Consommable")
    DATA = "data", _("Données")


class Resource(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="resources")
    code = models.CharField(_("code"), max_length=40, validators=[CODE_VALIDATOR])
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=24, choices=ResourceKind.choices)
    owner = models.CharField(_("responsable"), max_length=200, blank=True)
    trust_core = models.BooleanField(
        _("socle de confiance"),
        default=False,
        help_text=_("Réseau, annuaire, DNS, virtualisation, sauvegarde : repris en premier."),
    )
    restore_hours = models.DecimalField(_("durée de restauration (heures)"), **HOURS)
    measured_rto_hours = models.DecimalField(_("RTO mesuré (heures)"), **HOURS)
    measured_rpo_hours = models.DecimalField(_("PDMA mesurée (heures)"), **HOURS)
    contract = models.CharField(_("contrat fournisseur"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="unique_resource_code")
        ]
        verbose_name = _("ressource")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Dependency(models.Model):
    """``source`` (an activity or resource code of the campaign) needs ``target``."""

    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dependencies")
    source = models.CharField(_("de (activité ou ressource)"), max_length=40)
    target = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="needed_by", verbose_name=_("vers")
    )
    hard = models.BooleanField(_("dépendance forte"), default=True)
    workaround = models.BooleanField(_("contournement possible"), default=False)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["source", "target__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source", "target"], name="unique_dependency"
            )
        ]
        verbose_name = _("dépendance")

    def __str__(self) -> str:
        return f"{self.source} → {self.target_id}"


class NeedKind(models.TextChoices):
    MATERIAL = "material", _("Matériel")
    HUMAN = "human", _("Humain")


class Need(models.Model):
    tenant_path = "activity__campaign__organisation"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="needs")
    kind = models.CharField(_("nature"), max_length=10, choices=NeedKind.choices)
    item = models.CharField(_("élément"), max_length=200)
    quantity = models.DecimalField(
        _("quantité"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    per = models.CharField(_("par"), max_length=40, blank=True)
    location = models.CharField(_("lieu de stockage"), max_length=200, blank=True)
    ready = models.BooleanField(_("prêt"), default=False)

    class Meta:
        ordering = ["activity__code", "kind", "item"]
        verbose_name = _("besoin en mode dégradé")

    def __str__(self) -> str:
        return self.item


class ScenarioKind(models.TextChoices):
    SI_UNAVAILABLE = "si_unavailable", _("SI indisponible")
    SITE_UNAVAILABLE = "site_unavailable", _("Site indisponible")
    STAFF_UNAVAILABLE = "staff_unavailable", _("Personnel indisponible")
    SUPPLIER_UNAVAILABLE = "supplier_unavailable", _("Fournisseur critique indisponible")
    OTHER = "other", _("Autre")


class Scenario(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="scenarios")
    kind = models.CharField(_("scénario"), max_length=24, choices=ScenarioKind.choices)
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    strategy = models.TextField(_("stratégie de continuité et de reprise"), blank=True)

    class Meta:
        ordering = ["kind", "title"]
        verbose_name = _("scénario")

    def __str__(self) -> str:
        return self.title


class CrisisRole(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="crisis_roles")
    role = models.CharField(_("rôle"), max_length=120)
    holder = models.CharField(_("titulaire"), max_length=120)
    deputy = models.CharField(_("suppléant"), max_length=120, blank=True)
    contact = models.CharField(_("contact (hors SI)"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("membre de la cellule de crise")

    def __str__(self) -> str:
        return f"{self.role} : {self.holder}"


class ProcedureKind(models.TextChoices):
    REFLEX = "reflex", _("Fiche réflexe")
    DEGRADED = "degraded_mode", _("Mode dégradé")
    RECOVERY = "recovery", _("Reprise")
    RETURN = "return_to_normal", _("Retour à la normale (ressaisie)")
    REPORTING = "reporting", _("Remontée et redescente d'information")


class Procedure(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="procedures")
    kind = models.CharField(_("type"), max_length=20, choices=ProcedureKind.choices)
    title = models.CharField(_("titre"), max_length=200)
    scenario = models.ForeignKey(
        Scenario, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("scénario")
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("activité")
    )
    body = models.TextField(_("contenu"), blank=True)
    version = models.CharField(_("version"), max_length=20, blank=True)
    owner = models.CharField(_("responsable"), max_length=120, blank=True)

    class Meta:
        ordering = ["kind", "title"]
        verbose_name = _("procédure")

    def __str__(self) -> str:
        return self.title


class ExerciseKind(models.TextChoices):
    TABLETOP = "tabletop", _("Sur table")
    FIELD = "field", _("Sur le terrain")
    TECHNICAL = "technical_restore", _("Restauration technique")


class Exercise(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="exercises")
    held_on = models.DateField(_("date"))
    kind = models.CharField(_("type"), max_length=20, choices=ExerciseKind.choices)
    scenario = models.ForeignKey(
        Scenario, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("scénario")
    )
    perimeter = models.CharField(_("périmètre"), max_length=300)
    participants = models.TextField(_("participants"), blank=True)
    duration_hours = models.DecimalField(_("durée (heures)"), **HOURS)
    results = models.TextField(_("résultats"), blank=True)
    retex = models.TextField(_("retour d'expérience (RETEX)"), blank=True)
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-held_on"]
        verbose_name = _("exercice")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} du {self.held_on:%d/%m/%Y}"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("à faire")
    IN_PROGRESS = "in_progress", _("en cours")
    DONE = "done", _("terminée")


class RetexAction(models.Model):
    tenant_path = "exercise__campaign__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(_("action"), max_length=300)
    owner = models.CharField(_("responsable"), max_length=120)
    due_on = models.DateField(_("échéance"))
    status = models.CharField(
        _("statut"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("action RETEX")

    def __str__(self) -> str:
        return self.description


ACTIVITY_LABELS = dict(engine.ACTIVITY_KINDS)
