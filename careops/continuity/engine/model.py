"""The BIA data model: plain dataclasses, with the defaults proposed for CaRE D2.

Durations are stored in seconds; ``None`` means "not set" (or, for a DMIA, "beyond the last
horizon").
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class Horizon:
    """A point on the time scale at which impacts are rated."""

    label: str
    seconds: int


@dataclass(frozen=True)
class ImpactType:
    """A kind of impact (patient care, legal, financial…)."""

    code: str
    label: str


@dataclass(frozen=True)
class PriorityClass:
    """A priority class; an activity falls in the first class whose ``max_seconds`` bounds its
    DMIA (``None``: no bound, the catch-all class)."""

    code: str
    label: str
    max_seconds: int | None


DEFAULT_HORIZONS: tuple[Horizon, ...] = (
    Horizon("1 h", HOUR),
    Horizon("4 h", 4 * HOUR),
    Horizon("24 h", DAY),
    Horizon("72 h", 3 * DAY),
    Horizon("7 j", 7 * DAY),
    Horizon("30 j", 30 * DAY),
)
DEFAULT_IMPACT_TYPES: tuple[ImpactType, ...] = (
    ImpactType("patient_care", "Prise en charge des patients"),
    ImpactType("continuity_of_care", "Continuité des soins"),
    ImpactType("legal", "Juridique et réglementaire"),
    ImpactType("financial", "Financier"),
    ImpactType("image", "Image et confiance"),
    ImpactType("staff", "Personnel et conditions de travail"),
    ImpactType("data", "Données (perte ou divulgation)"),
)
DEFAULT_LEVELS: tuple[str, ...] = ("Nul", "Mineur", "Significatif", "Grave", "Critique")
DEFAULT_THRESHOLD = 3
DEFAULT_PRIORITY_CLASSES: tuple[PriorityClass, ...] = (
    PriorityClass("P1", "Vitale (reprise en 4 h au plus)", 4 * HOUR),
    PriorityClass("P2", "Essentielle (24 h au plus)", DAY),
    PriorityClass("P3", "Importante (72 h au plus)", 3 * DAY),
    PriorityClass("P4", "Différable (au-delà de 72 h)", None),
)

ACTIVITY_KINDS: dict[str, str] = {
    "care_service": "Service de soins",
    "technical_platform": "Plateau technique",
    "administrative": "Processus administratif",
    "support": "Fonction support",
}
RESOURCE_KINDS: dict[str, str] = {
    "application": "Application",
    "infrastructure": "Infrastructure",
    "site": "Site",
    "supplier": "Fournisseur",
    "staff_role": "Rôle du personnel",
    "equipment": "Équipement biomédical",
    "consumable": "Consommable",
    "data": "Données",
}
NEED_KINDS: dict[str, str] = {"material": "Matériel", "human": "Humain"}
# The CaRE D2.O1.C minimum perimeters, as named in the referential (d2-v1.yaml).
PERIMETERS: dict[str, str] = {
    "care_service_major_impact": "service de soins à impact majeur sur la prise en charge",
    "critical_admin_process": "processus administratif le plus critique",
    "technical_platform": "plateau technique du parcours de soins",
}


@dataclass(frozen=True)
class Method:
    """The campaign's rating method: horizons, impact types, scale, threshold, priority classes."""

    horizons: tuple[Horizon, ...] = DEFAULT_HORIZONS
    impact_types: tuple[ImpactType, ...] = DEFAULT_IMPACT_TYPES
    levels: tuple[str, ...] = DEFAULT_LEVELS
    threshold: int = DEFAULT_THRESHOLD
    priority_classes: tuple[PriorityClass, ...] = DEFAULT_PRIORITY_CLASSES
    rto_margin: float = 0.25

    @property
    def max_level(self) -> int:
        return len(self.levels) - 1


@dataclass
class Activity:
    """A business activity analysed by the BIA."""

    code: str
    name: str
    kind: str = "care_service"
    entity: str = ""
    owner: str = ""
    patient_impact_major: bool = False
    # ratings[impact_type_code][horizon_label] = level
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)
    rto_seconds: int | None = None
    rpo_seconds: int | None = None
    dmia_override_seconds: int | None = None
    dmia_override_reason: str = ""
    mbco: str = ""
    row: int | None = None  # where it came from in a workbook, for messages
    rating_rows: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass
class Resource:
    """Something activities need: an application, infrastructure, a site, a supplier…"""

    code: str
    name: str
    kind: str = "application"
    owner: str = ""
    trust_core: bool = False
    restore_seconds: int | None = None
    measured_rto_seconds: int | None = None
    measured_rpo_seconds: int | None = None
    contract: str = ""
    row: int | None = None


@dataclass(frozen=True)
class Measured:
    """A resource's recovery capability measured elsewhere (restore tests, backup ages), passed
    into the analysis in place of the values typed on the resource.

    ``rto_complete`` / ``rpo_complete`` are false when only part of what the resource needs was
    measured: a measure within the objective then proves nothing, one beyond it still fails.
    """

    rto_seconds: int | None = None
    rpo_seconds: int | None = None
    rto_source: str = ""
    rpo_source: str = ""
    rto_complete: bool = True
    rpo_complete: bool = True


@dataclass
class Dependency:
    """``source`` (an activity or resource code) needs ``target`` (a resource code)."""

    source: str
    target: str
    hard: bool = True
    workaround: bool = False
    notes: str = ""
    row: int | None = None


@dataclass
class Need:
    """A material or human need of an activity in degraded mode."""

    activity: str
    kind: str
    item: str
    quantity: float | None = None
    per: str = ""
    location: str = ""
    ready: bool = False
    row: int | None = None


@dataclass
class Entity:
    """A FINESS entity of the candidate, with its activity weight and the weight's unit."""

    finess: str
    name: str
    weight: float = 0.0
    unit: str = ""
    perimeters_absent: tuple[str, ...] = ()
    row: int | None = None


@dataclass
class Bia:
    """A whole business impact analysis."""

    method: Method = field(default_factory=Method)
    activities: list[Activity] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    #: Column letters of the workbook it was read from: sheet → header → letter ("G").
    columns: dict[str, dict[str, str]] = field(default_factory=dict)


def column_ref(letter: str, header: str) -> str:
    """The one way a column is named in a problem: « G « RTO (heures) » »."""
    return f"{letter} « {header} »" if letter else f"« {header} »"


@dataclass(frozen=True)
class Problem:
    """An error found in a BIA, located as precisely as possible.

    ``blocking`` problems refuse an import; the others only block validation (completeness).
    """

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    blocking: bool = True
    #: Every row concerned when there are several (a dependency cycle: one row per edge);
    #: ``row`` is then the first of them.
    rows: tuple[int, ...] = ()

    def location(self) -> str:
        parts = [self.sheet] if self.sheet else []
        if len(self.rows) > 1:
            parts.append("lignes " + ", ".join(str(row) for row in self.rows))
        elif self.row is not None:
            parts.append(f"ligne {self.row}")
        if self.column:
            parts.append(f"colonne {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where} : {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "rows": list(self.rows) if self.rows else ([self.row] if self.row is not None else []),
            "column": self.column,
            "message": self.message,
            "blocking": self.blocking,
        }


def format_duration(seconds: int | None, beyond: str = "non définie") -> str:
    """A French reading of a duration: "45 min", "4 h", "3 j", "1 j 6 h"."""
    if seconds is None:
        return beyond
    if seconds < HOUR:
        return f"{round(seconds / 60)} min"
    if seconds < DAY or seconds % DAY and seconds < 3 * DAY:
        hours = seconds / HOUR
        return f"{hours:g} h" if hours != int(hours) else f"{int(hours)} h"
    days, rest = divmod(seconds, DAY)
    hours = round(rest / HOUR)
    return f"{days} j {hours} h" if hours else f"{days} j"
