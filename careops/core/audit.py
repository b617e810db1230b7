"""Record an audit event; the request's actor and IP come from AuditContextMiddleware."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from django.db import models

from careops.core.models import AuditEvent

logger = logging.getLogger("careops.audit")
_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("ip", default=None)


def set_request_ip(ip: str | None) -> contextvars.Token:
    """Remember the current request's client address for the events it records."""
    return _request_ip.set(ip)


def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    organisation=None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event (its summary stays in the journal) and log its ids."""
    event = AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        organisation=organisation,
        summary=summary,
        changes=changes or {},
        ip=_request_ip.get(),
    )
    # the log line names ids only: summaries hold names and, for a failed login, what was typed
    logger.info(
        "audit %s user=%s object=%s:%s organisation=%s",
        action,
        event.actor_id or "-",
        event.object_type or "-",
        event.object_id or "-",
        event.organisation_id or "-",
    )
    return event


def action_label(action: str) -> str:
    """The French label of an audit action code ("continuity.besoin.delete" → "Besoin en mode
    dégradé supprimé (continuité)"); an unknown code is shown as it is."""
    from django.utils.translation import gettext as _

    exact = {
        "assessment.open": _("Évaluation ouverte"),
        "assessment.update": _("Évaluation modifiée (dates ou faits)"),
        "evidence.create": _("Preuve déposée"),
        "evidence.revise": _("Nouvelle révision de preuve"),
        "referential.load": _("Référentiel chargé"),
        "organisation.create": _("Organisation créée"),
        "organisation.update": _("Organisation modifiée"),
        "role.grant": _("Rôle attribué"),
        "role.revoke": _("Rôle retiré"),
        "user.invite": _("Compte invité"),
        "token.create": _("Jeton d'API créé"),
        "token.revoke": _("Jeton d'API révoqué"),
        "login": _("Connexion"),
        "logout": _("Déconnexion"),
        "login.failed": _("Échec de connexion"),
        "candidacy.apply": _("Candidature déposée"),
        "candidacy.validate": _("Candidature validée"),
        "candidacy.reject": _("Candidature refusée"),
        "declaration.file": _("Déclaration déposée"),
        "declaration.transmit": _("Déclaration transmise à l'ANS"),
        "declaration.decide": _("Décision rendue"),
        "declaration.pay": _("Paiement enregistré"),
        "declaration.complement.answer": _("Complément fourni"),
        "backups.alert": _("Alerte de sauvegarde"),
        "backups.alert_ack": _("Alerte de sauvegarde acquittée"),
        "backups.jobs_import": _("Rapport de tâches importé"),
        "backups.run_done": _("Vérification de sauvegarde terminée"),
        "backups.run_request": _("Vérification de sauvegarde demandée"),
        "exposure.internal_audit": _("Audit d'exposition interne"),
    }
    if action in exact:
        return exact[action]
    apps = {
        "continuity": _("continuité"),
        "directory": _("annuaires"),
        "exposure": _("exposition"),
        "backups": _("sauvegardes"),
        "declaration": _("déclarations"),
    }
    objects = {
        "campaign": _("Campagne BIA"),
        "activite": _("Activité"),
        "ressource": _("Ressource"),
        "dependance": _("Dépendance"),
        "besoin": _("Besoin en mode dégradé"),
        "scenario": _("Scénario"),
        "cellule": _("Membre de la cellule de crise"),
        "procedure": _("Procédure"),
        "exercice": _("Exercice"),
        "action": _("Action RETEX"),
        "audit": _("Audit"),
        "domain": _("Domaine"),
        "milestone": _("Jalon"),
        "waiver": _("Dérogation"),
        "asset": _("Actif exposé"),
        "finding": _("Constat"),
        "run": _("Audit"),
        "system": _("Système de sauvegarde"),
        "repository": _("Dépôt de sauvegarde"),
        "trajectory": _("Trajectoire"),
        "protected": _("Système protégé"),
    }
    verbs = {
        "create": _("créé(e)"),
        "update": _("modifié(e)"),
        "delete": _("supprimé(e)"),
        "import": _("importé(e)"),
        "validate": _("validé(e)"),
        "version": _("nouvelle version"),
        "done": _("terminé(e)"),
        "fail": _("en échec"),
        "start": _("lancé(e)"),
        "cancel": _("annulé(e)"),
        "approve": _("approuvé(e)"),
        "attest": _("attesté(e)"),
        "declare": _("déclaré(e)"),
        "verify": _("vérifié(e)"),
    }
    parts = action.split(".")
    if len(parts) == 3 and parts[1] in objects and parts[2] in verbs:
        app = apps.get(parts[0], parts[0])
        return f"{objects[parts[1]]} {verbs[parts[2]]} ({app})"
    return action
