"""A small, complete example BIA (a hospital's emergency department, laboratory and payroll),
used by ``careops bia template --exemple``, the demo and the tests."""

from __future__ import annotations

from careops.continuity.engine.model import (
    DAY,
    HOUR,
    Activity,
    Bia,
    Dependency,
    Entity,
    Method,
    Need,
    Resource,
)


def _ratings(method: Method, rows: dict[str, list[int]]) -> dict[str, dict[str, int]]:
    return {
        code: dict(zip((h.label for h in method.horizons), levels, strict=True))
        for code, levels in rows.items()
    }


def example_bia(finess: str = "920000013", name: str = "CH Exemple") -> Bia:
    """Three activities covering the CaRE minimum perimeters, eight resources, their needs."""
    method = Method()
    flat = {t.code: [0, 1, 1, 2, 2, 3] for t in method.impact_types}
    activities = [
        Activity(
            "URG",
            "Urgences adultes",
            "care_service",
            entity=finess,
            owner="Chef de service des urgences",
            patient_impact_major=True,
            ratings=_ratings(
                method, {**flat, "patient_care": [2, 3, 4, 4, 4, 4], "data": [1, 2, 3, 3, 3, 3]}
            ),
            rto_seconds=2 * HOUR,
            rpo_seconds=1 * HOUR,
            mbco="Accueil et tri des urgences vitales sur dossier papier",
        ),
        Activity(
            "LAB",
            "Biologie médicale",
            "technical_platform",
            entity=finess,
            owner="Biologiste responsable",
            ratings=_ratings(method, {**flat, "patient_care": [1, 2, 3, 4, 4, 4]}),
            rto_seconds=12 * HOUR,
            rpo_seconds=4 * HOUR,
            mbco="Examens urgents uniquement, résultats transmis par téléphone",
        ),
        Activity(
            "PAIE",
            "Paie du personnel",
            "administrative",
            entity=finess,
            owner="Directeur des ressources humaines",
            ratings=_ratings(
                method, {**flat, "financial": [0, 0, 1, 2, 3, 4], "staff": [0, 0, 1, 2, 3, 4]}
            ),
            rto_seconds=3 * DAY,
            rpo_seconds=DAY,
            mbco="Versement d'acomptes sur la base de la paie précédente",
        ),
    ]
    resources = [
        Resource(
            "RESEAU",
            "Réseau du cœur de site",
            "infrastructure",
            trust_core=True,
            restore_seconds=2 * HOUR,
        ),
        Resource(
            "AD",
            "Annuaire Active Directory",
            "infrastructure",
            trust_core=True,
            restore_seconds=3 * HOUR,
        ),
        Resource(
            "VIRT",
            "Plateforme de virtualisation",
            "infrastructure",
            trust_core=True,
            restore_seconds=4 * HOUR,
        ),
        Resource(
            "SAUV",
            "Système de sauvegarde",
            "infrastructure",
            trust_core=True,
            restore_seconds=2 * HOUR,
        ),
        Resource(
            "DPI",
            "Dossier patient informatisé",
            "application",
            restore_seconds=6 * HOUR,
            measured_rto_seconds=10 * HOUR,
        ),
        Resource(
            "SIL", "Système d'information de laboratoire", "application", restore_seconds=4 * HOUR
        ),
        Resource("LOGPAIE", "Logiciel de paie", "application", restore_seconds=8 * HOUR),
        Resource("REACTIFS", "Fournisseur de réactifs", "supplier", contract="Marché 2024-017"),
    ]
    dependencies = [
        Dependency("URG", "DPI"),
        Dependency("LAB", "SIL"),
        Dependency("LAB", "REACTIFS", hard=False, workaround=True),
        Dependency("PAIE", "LOGPAIE"),
        Dependency("DPI", "VIRT"),
        Dependency("DPI", "AD"),
        Dependency("SIL", "VIRT"),
        Dependency("SIL", "DPI", hard=False),
        Dependency("LOGPAIE", "VIRT"),
        Dependency("LOGPAIE", "AD"),
        Dependency("VIRT", "RESEAU"),
        Dependency("AD", "RESEAU"),
        Dependency("SAUV", "RESEAU"),
    ]
    needs = [
        Need(
            "URG",
            "material",
            "Dossiers de soins papier",
            200,
            "jour",
            "Armoire PCA des urgences",
            True,
        ),
        Need("URG", "human", "Infirmier coursier", 2, "poste", "", True),
        Need(
            "LAB", "material", "Bons de demande papier", 500, "jour", "Secrétariat du laboratoire"
        ),
        Need("LAB", "human", "Technicien de saisie", 1, "poste"),
        Need("PAIE", "material", "Poste de secours hors domaine", 1, "jour", "Bureau DRH"),
        Need("PAIE", "human", "Gestionnaire paie", 2, "jour"),
    ]
    entities = [Entity(finess, name, 1000, "séjours")]
    return Bia(method, activities, resources, dependencies, needs, entities)
