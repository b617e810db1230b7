"""Loading and validating referential files.

``validate`` reports every defect with its file and line; ``load_referential`` refuses a
directory with any defect, so the platform never runs on a half-valid referential.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .schema import (
    BUILTIN_FACTS,
    DOSSIER_BOUNDS,
    Bound,
    Condition,
    DomainVersion,
    Programme,
    normalize_item_id,
    version_key,
)
from .source import Path_, Problem, SourceDoc, problems_from_validation, read_file

PROGRAMME_FILE = "programme.yaml"


class ReferentialError(Exception):
    """The referential has defects; ``problems`` lists them with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class Referential:
    """All loaded domains (code → version → DomainVersion) and the programme calendar."""

    programme: Programme | None = None
    domains: dict[str, dict[str, DomainVersion]] = field(default_factory=dict)

    def codes(self) -> list[str]:
        return sorted(self.domains)

    def versions(self, code: str) -> list[str]:
        """Versions of a domain, oldest first."""
        return sorted(self.domains.get(code.upper(), {}), key=version_key)

    def domain(self, code: str, version: str | None = None) -> DomainVersion:
        """A domain version; by default the newest published one (the newest draft if the domain
        has no published version). Raises KeyError with a French message when absent."""
        code = code.strip().upper().replace(" ", "")
        versions = self.domains.get(code)
        if not versions:
            known = ", ".join(self.codes()) or "aucun"
            raise KeyError(f"domaine inconnu : « {code} » (domaines connus : {known})")
        if version is not None:
            wanted = str(version).strip().lower().removeprefix("v")
            if wanted not in versions:
                raise KeyError(
                    f"version inconnue pour {code} : « {version} » "
                    f"(versions connues : {', '.join(self.versions(code))})"
                )
            return versions[wanted]
        ordered = [versions[number] for number in self.versions(code)]
        published = [candidate for candidate in ordered if candidate.status == "published"]
        return (published or ordered)[-1]


def default_directory() -> Path:
    """The referential shipped with careops."""
    return Path(__file__).resolve().parent.parent / "referential"


def load_file(path: str | Path, source_ids: set[str] | None = None) -> DomainVersion | Programme:
    """Load one referential file (a domain version or programme.yaml); ReferentialError if bad."""
    model, problems = _check_file(Path(path), source_ids)
    if problems or model is None:
        raise ReferentialError(problems)
    return model


def validate(paths: Iterable[str | Path]) -> list[Problem]:
    """Every defect of the given files (or directories of ``*.yaml``), with file:line."""
    files = _expand(paths)
    problems: list[Problem] = []
    programmes: dict[Path, Programme] = {}
    for path in files:
        if path.name == PROGRAMME_FILE:
            model, found = _check_file(path, None)
            problems.extend(found)
            if isinstance(model, Programme):
                programmes[path.parent] = model
    seen: dict[tuple[str, str], Path] = {}
    for path in files:
        if path.name == PROGRAMME_FILE:
            continue
        programme = programmes.get(path.parent) or _sibling_programme(path)
        source_ids = set(programme.sources) if programme is not None else None
        model, found = _check_file(path, source_ids)
        problems.extend(found)
        if isinstance(model, DomainVersion):
            key = (model.domain, model.version)
            if key in seen:
                problems.append(
                    Problem(
                        str(path),
                        1,
                        f"{model.domain} version {model.version} déjà définie dans {seen[key]}",
                    )
                )
            else:
                seen[key] = path
    return problems


def load_referential(directory: str | Path | None = None) -> Referential:
    """Load every file of a referential directory; ReferentialError listing all defects."""
    root = Path(directory) if directory is not None else default_directory()
    if not root.is_dir():
        raise ReferentialError([Problem(str(root), None, "répertoire de référentiel introuvable")])
    problems = validate([root])
    if problems:
        raise ReferentialError(problems)
    referential = Referential()
    programme_path = root / PROGRAMME_FILE
    if programme_path.exists():
        programme = load_file(programme_path)
        assert isinstance(programme, Programme)
        referential.programme = programme
    source_ids = set(referential.programme.sources) if referential.programme else None
    for path in _expand([root]):
        if path.name == PROGRAMME_FILE:
            continue
        model = load_file(path, source_ids)
        assert isinstance(model, DomainVersion)
        referential.domains.setdefault(model.domain, {})[model.version] = model
    return referential


def dump_domain(domain: DomainVersion) -> dict[str, Any]:
    """A domain version as plain JSON-ready dicts (dates as ISO strings), YAML field names."""
    return domain.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- internals -------------------------------------------------------------------------------


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")))
        else:
            files.append(path)
    return files


def _sibling_programme(path: Path) -> Programme | None:
    candidate = path.parent / PROGRAMME_FILE
    if not candidate.exists():
        return None
    model, problems = _check_file(candidate, None)
    return model if isinstance(model, Programme) and not problems else None


def _check_file(
    path: Path, source_ids: set[str] | None
) -> tuple[DomainVersion | Programme | None, list[Problem]]:
    doc = read_file(path)
    if doc.problems and doc.data is None:
        return None, list(doc.problems)
    problems = list(doc.problems)
    if not isinstance(doc.data, dict):
        problems.append(Problem(str(path), 1, "le fichier doit contenir un objet (clé: valeur)"))
        return None, problems
    is_programme = path.name == PROGRAMME_FILE or (
        "programme" in doc.data and "domain" not in doc.data
    )
    model_class: type[DomainVersion] | type[Programme] = (
        Programme if is_programme else DomainVersion
    )
    try:
        model = model_class.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, doc))
        if not is_programme:
            problems.extend(_raw_item_checks(doc))
        return None, problems
    if isinstance(model, Programme):
        problems.extend(_check_programme(model, doc))
    else:
        problems.extend(_check_domain(model, doc, source_ids))
    return model, problems


def walk(obj: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every node of a validated model with its path in the YAML data (aliases as keys)."""
    yield path, obj
    if isinstance(obj, Bound):
        return
    if isinstance(obj, BaseModel):
        for name, info in type(obj).model_fields.items():
            yield from walk(getattr(obj, name), (*path, info.alias or name))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from walk(value, (*path, index))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from walk(value, (*path, key))


def _check_programme(programme: Programme, doc: SourceDoc) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for index, event in enumerate(programme.events):
        if event.id in seen:
            problems.append(
                doc.problem(("events", index, "id"), f"événement en double : {event.id}")
            )
        seen.add(event.id)
        if event.date is None and not event.to_confirm:
            problems.append(
                doc.problem(("events", index, "date"), "date inconnue : indiquez to_confirm: true")
            )
    problems.extend(_check_sources(programme, doc, set(programme.sources)))
    return problems


def _check_sources(model: BaseModel, doc: SourceDoc, source_ids: set[str]) -> list[Problem]:
    problems = []
    for path, value in walk(model):
        in_list = len(path) >= 2 and path[-2] == "sources" and isinstance(path[-1], int)
        in_faq = bool(path) and path[-1] == "source" and isinstance(value, str)
        if (in_list or in_faq) and isinstance(value, str) and value not in source_ids:
            problems.append(doc.problem(path, f"source inconnue : « {value} »"))
    return problems


def _check_domain(
    domain: DomainVersion, doc: SourceDoc, source_ids: set[str] | None
) -> list[Problem]:
    problems: list[Problem] = []
    prefix = domain.prefix
    positions: dict[str, int] = {}
    for index, item in enumerate(domain.items):
        where = ("items", index, "id")
        if not item.id.startswith(prefix + "."):
            problems.append(
                doc.problem(where, f"l'identifiant {item.id} ne commence pas par « {prefix}. »")
            )
        if item.id in positions:
            problems.append(doc.problem(where, f"identifiant en double : {item.id}"))
        else:
            positions[item.id] = index
    for index, item in enumerate(domain.items):
        if item.parent is None:
            continue
        where = ("items", index, "parent")
        if item.parent not in positions:
            problems.append(doc.problem(where, f"{item.id} : parent inexistant « {item.parent} »"))
        elif domain.items[positions[item.parent]].kind != "group":
            problems.append(
                doc.problem(where, f"{item.id} : le parent {item.parent} n'est pas un groupe")
            )
        elif _has_cycle(domain, item.id):
            problems.append(doc.problem(where, f"{item.id} : cycle dans les parents"))
    parents = {item.parent for item in domain.items}
    for index, item in enumerate(domain.items):
        if item.kind == "group" and item.id not in parents:
            problems.append(
                doc.problem(("items", index, "id"), f"le groupe {item.id} n'a aucun enfant")
            )
    events = set(DOSSIER_BOUNDS) | set(domain.events)
    for path, value in walk(domain, ()):
        if isinstance(value, Bound) and value.event is not None and value.event not in events:
            known = ", ".join(sorted(events))
            problems.append(
                doc.problem(
                    path, f"événement inconnu dans une borne : « {value.event} » (connus : {known})"
                )
            )
        elif (
            isinstance(value, Condition)
            and value.fact not in domain.facts
            and value.fact not in BUILTIN_FACTS
        ):
            problems.append(
                doc.problem(
                    (*path, "fact"), f"fait inconnu : « {value.fact} » (déclarez-le dans facts)"
                )
            )
        elif (
            len(path) >= 2
            and path[-1] in ("evidence_kind", "related_kind")
            and path[0] == "items"
            and value not in domain.evidence_kinds
        ):
            problems.append(
                doc.problem(
                    path, f"type de preuve inconnu : « {value} » (déclarez-le dans evidence_kinds)"
                )
            )
        elif path and path[0] == "items" and path[-1] == "validated_by" and isinstance(value, str):
            if value not in domain.roles:
                problems.append(
                    doc.problem(path, f"rôle inconnu : « {value} » (déclarez-le dans roles)")
                )
        elif (
            len(path) >= 2
            and path[0] == "items"
            and path[-2] == "required_perimeters"
            and value not in domain.perimeters
        ):
            problems.append(
                doc.problem(path, f"périmètre inconnu : « {value} » (déclarez-le dans perimeters)")
            )
    for weight_id in domain.funding.modulation.weights:
        path = ("funding", "modulation", "weights")
        if weight_id not in positions:
            problems.append(
                doc.problem(path, f"pondération pour un élément inexistant : {weight_id}")
            )
        elif domain.items[positions[weight_id]].kind == "group":
            problems.append(doc.problem(path, f"pondération sur un groupe : {weight_id}"))
    if source_ids is not None:
        problems.extend(_check_sources(domain, doc, source_ids))
    return problems


def _raw_item_checks(doc: SourceDoc) -> list[Problem]:
    """Duplicate IDs and missing parents, read from the raw data when the schema failed, so that
    one run reports them alongside the schema errors."""
    items = doc.data.get("items") if isinstance(doc.data, dict) else None
    if not isinstance(items, list):
        return []
    problems = []
    ids: set[str] = set()
    parents: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        try:
            item_id = normalize_item_id(item.get("id"))
        except ValueError:
            continue
        if item_id in ids:
            problems.append(
                doc.problem(("items", index, "id"), f"identifiant en double : {item_id}")
            )
        ids.add(item_id)
        try:
            if item.get("parent") is not None:
                parents.append((index, normalize_item_id(item["parent"])))
        except ValueError:
            continue
    for index, parent in parents:
        if parent not in ids:
            problems.append(
                doc.problem(("items", index, "parent"), f"parent inexistant « {parent} »")
            )
    return problems


def _has_cycle(domain: DomainVersion, item_id: str) -> bool:
    by_id = {item.id: item for item in domain.items}
    seen = {item_id}
    current = by_id[item_id].parent
    while current is not None and current in by_id:
        if current in seen:
            return True
        seen.add(current)
        current = by_id[current].parent
    return False
