"""Which module of careops produces the evidence of which objective, as data.

The objective page reads ``producers_for(code)`` to link to the module that makes its evidence
(D2.O4 → a restore test in Sauvegardes); each module's page reads ``objectives_fed_by(app)`` to
link back to the objectives it feeds. Patterns are ``fnmatch`` patterns on the referential's
stable identifiers, so a new version of a referential needs no template change; D1BIS mirrors
D1 for the medico-social structures.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Producer:
    """A module page that produces evidence for the objectives matching ``patterns``."""

    app: str
    url_name: str
    module: str
    action: str
    patterns: tuple[str, ...]

    def feeds(self, code: str) -> bool:
        return any(fnmatchcase(code, p) for p in self.patterns)


PRODUCERS: tuple[Producer, ...] = (
    Producer(
        "backups",
        "backups:index",
        _("Sauvegardes"),
        _("Faire un test de restauration chronométré (dépôt restic ou borg)"),
        ("D2.O4", "D2.O4.*"),
    ),
    Producer(
        "backups",
        "backups:index",
        _("Sauvegardes"),
        _("Systèmes de sauvegarde : 2FA, cloisonnement, règle 3-2-1, supervision"),
        ("D2.O3", "D2.O3.*"),
    ),
    Producer(
        "continuity",
        "continuity:index",
        _("Continuité"),
        _("Campagne BIA, PCRA et exercices : les preuves sont versées à la validation"),
        ("D2.O1", "D2.O1.*"),
    ),
    Producer(
        "exposure",
        "exposure:index",
        _("Exposition sur internet"),
        _("Audits d'exposition : deux audits à 45–60 jours d'intervalle, scans mensuels"),
        ("D1.O2", "D1.O2.*", "D1BIS.O2", "D1BIS.O2.*"),
    ),
    Producer(
        "directory",
        "directory:index",
        _("Active Directory"),
        _("Audit ADS de l'annuaire et niveau ANSSI"),
        ("D1.O1", "D1.O1.*", "D1BIS.O1", "D1BIS.O1.*", "D2.O3.A"),
    ),
    Producer(
        "directory",
        "directory:index",
        _("Active Directory"),
        _("Convergence des annuaires du GHT et ses jalons"),
        ("D1.O6", "D1.O6.*", "D1BIS.O6", "D1BIS.O6.*"),
    ),
    Producer(
        "hospiconnect",
        "hospiconnect:index",
        _("HospiConnect"),
        _("Indicateurs mesurés depuis les exports (DPI, IdP, DMP) et revue annuelle des comptes"),
        ("HC.202[78].1.[123]", "HC.202[78].2.*", "HC.2028.1.4"),
    ),
    Producer(
        "maturity",
        "maturity:index",
        _("Maturité"),
        _("Auto-évaluation de la maturité (diagnostic, NIS 2) validée comme preuve"),
        ("D1.O4", "D1BIS.O4", "AAPMS.O1", "AAPMS.O5"),
    ),
    Producer(
        "awareness",
        "awareness:index",
        _("Sensibilisation"),
        _("Campagnes de formation (part du personnel formé) et exercices d'hameçonnage"),
        ("AAPMS.O3",),
    ),
    Producer(
        "exercises",
        "exercises:index",
        _("Exercices de crise"),
        _("Exercice de crise planifié, conduit et clos par un RETEX validé"),
        ("D1.O3", "D1BIS.O3"),
    ),
)


def producers_for(code: str) -> list[Producer]:
    """The module pages that produce evidence for the item ``code``."""
    return [p for p in PRODUCERS if p.feeds(code)]


def objectives_fed_by(app: str, items) -> list:
    """Of ``items`` (catalogue Items or objects with ``code``), those a module of ``app`` feeds."""
    mine = [p for p in PRODUCERS if p.app == app]
    return [i for i in items if any(p.feeds(i.code) for p in mine)]
