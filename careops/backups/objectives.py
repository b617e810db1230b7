"""The RPO/RTO a protected system must meet: inherited from the continuity BIA when the system is
linked to a BIA resource, or typed (then, for a linked system, an override with its reason)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

BIA = "bia"
OVERRIDE = "override"
TYPED = "typed"


def hours_label(hours: float | None) -> str:
    """A duration in hours as people write it: "4 h", "1,5 h", "3 j"."""
    if hours is None:
        return "—"
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g} j"
    return f"{hours:g} h".replace(".", ",")


@dataclass(frozen=True)
class Inherited:
    """A BIA resource's inherited requirement, from the reference campaign of its entity."""

    campaign_id: int
    campaign_title: str
    campaign_version: int
    validated: bool
    resource_id: int
    resource_code: str
    rpo_hours: float | None
    rto_hours: float | None

    @property
    def label(self) -> str:
        """« hérité du BIA « … » : PDMA 4 h, RTO 24 h »."""
        state = _("validée") if self.validated else _("brouillon")
        text = _(
            "hérité du BIA « %(title)s » (v%(version)s, %(state)s) : PDMA %(rpo)s, RTO %(rto)s"
        )
        return text % {
            "title": self.campaign_title,
            "version": self.campaign_version,
            "state": state,
            "rpo": hours_label(self.rpo_hours),
            "rto": hours_label(self.rto_hours),
        }


@dataclass(frozen=True)
class Objectives:
    """The effective RPO/RTO of a protected system and where each comes from."""

    rpo_hours: float | None
    rto_hours: float | None
    rpo_source: str  # bia, override, typed or "" (none)
    rto_source: str
    inherited: Inherited | None = None
    reason: str = ""
    note: str = ""

    @property
    def overridden(self) -> bool:
        return OVERRIDE in (self.rpo_source, self.rto_source)

    @property
    def label(self) -> str:
        """Where the objectives come from, in French."""
        parts = []
        if self.inherited is not None:
            parts.append(self.inherited.label)
        if self.note:
            parts.append(self.note)
        overrides = [
            f"{name} {hours_label(value)}"
            for name, value, source in (
                ("PDMA", self.rpo_hours, self.rpo_source),
                ("RTO", self.rto_hours, self.rto_source),
            )
            if source == OVERRIDE and value is not None
        ]
        if overrides:
            parts.append(
                _("dérogation saisie : %(values)s (%(reason)s)")
                % {"values": ", ".join(overrides), "reason": self.reason}
            )
        if not parts:
            parts.append(_("saisi"))
        return " ; ".join(parts)


def reference_campaign(organisation_id: int):
    """The entity's latest validated campaign, else its current (latest) draft."""
    from careops.continuity.models import Campaign, CampaignStatus

    campaigns = Campaign.objects.filter(organisation_id=organisation_id).order_by("-version")
    return (
        campaigns.filter(status=CampaignStatus.VALIDATED).first()
        or campaigns.filter(status=CampaignStatus.DRAFT).first()
    )


class ObjectiveResolver:
    """Resolves effective objectives, analysing each reference campaign once."""

    def __init__(self) -> None:
        self._campaigns: dict[int, object] = {}
        self._required: dict[int, dict[str, tuple[int | None, int | None]]] = {}

    def _reference(self, organisation_id: int):
        if organisation_id not in self._campaigns:
            self._campaigns[organisation_id] = reference_campaign(organisation_id)
        return self._campaigns[organisation_id]

    def _requirements(self, campaign) -> dict[str, tuple[int | None, int | None]]:
        if campaign.pk not in self._required:
            from careops.continuity import services as continuity

            analysis = continuity.analyse(campaign, with_measures=False)
            self._required[campaign.pk] = {
                o.code: (o.required_rpo_seconds, o.required_rto_seconds) for o in analysis.resources
            }
        return self._required[campaign.pk]

    def inherited(self, resource) -> Inherited | None:
        """The requirement of a resource (by its code) in its entity's reference campaign."""
        campaign = self._reference(resource.campaign.organisation_id) or resource.campaign
        required = self._requirements(campaign).get(resource.code)
        if required is None:
            return None
        rpo, rto = required
        current = resource
        if campaign.pk != resource.campaign_id:
            current = campaign.resources.filter(code=resource.code).first() or resource
        return Inherited(
            campaign_id=campaign.pk,
            campaign_title=campaign.title,
            campaign_version=campaign.version,
            validated=campaign.status == "validated",
            resource_id=current.pk,
            resource_code=resource.code,
            rpo_hours=None if rpo is None else rpo / 3600,
            rto_hours=None if rto is None else rto / 3600,
        )

    def objectives(self, system) -> Objectives:
        """The effective RPO/RTO of a protected system, with their sources."""
        typed_rpo, typed_rto = system.rpo_hours, system.rto_hours
        if not system.resource_id:
            return Objectives(
                typed_rpo,
                typed_rto,
                TYPED if typed_rpo is not None else "",
                TYPED if typed_rto is not None else "",
            )
        inherited = self.inherited(system.resource)
        note = ""
        if inherited is None:
            note = _("ressource « %(code)s » absente du BIA de référence") % {
                "code": system.resource.code
            }
        values = []
        for typed, bia in (
            (typed_rpo, inherited.rpo_hours if inherited else None),
            (typed_rto, inherited.rto_hours if inherited else None),
        ):
            if typed is not None:
                values.append((typed, OVERRIDE if bia is not None else TYPED))
            elif bia is not None:
                values.append((bia, BIA))
            else:
                values.append((None, ""))
        (rpo, rpo_source), (rto, rto_source) = values
        return Objectives(
            rpo, rto, rpo_source, rto_source, inherited, system.override_reason.strip(), note
        )

    def annotate(self, systems):
        """Attach ``objectives`` to each system (for templates and charts); returns the list."""
        systems = list(systems)
        for system in systems:
            system.objectives = self.objectives(system)
        return systems


def objectives_of(system) -> Objectives:
    """The effective objectives of one system (a fresh resolver)."""
    key = (system.resource_id, system.rpo_hours, system.rto_hours, system.override_reason)
    cached = getattr(system, "_objectives_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    objectives = getattr(system, "objectives", None)
    if not isinstance(objectives, Objectives):
        objectives = ObjectiveResolver().objectives(system)
    system._objectives_cache = (key, objectives)
    return objectives
