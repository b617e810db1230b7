"""The crisis-exercise scenario library: versioned YAML files, loaded and checked here.

A scenario (``<id>-v<version>.yaml`` in ``careops/catalogue/referential/exercises/``) has
objectives, the crisis-cell roles it needs, a timeline of injects (offset in minutes from the
start, channel, sender, recipient roles, content, expected reactions) and an observers' grid
(criteria tied to objectives, rated on a scale). Every error names the file and the place in it,
in French, so that a scenario author can fix it without reading code.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

LIBRARY_DIR = Path(__file__).parents[2] / "catalogue" / "referential" / "exercises"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeysLoader(SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a key written twice in one mapping (YAML would keep the last
    value silently: a pasted inject would lose its first ``content``)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"« {key} » figure deux fois : la seconde valeur effacerait la première",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


FILE_NAME = re.compile(r"^(?P<id>[a-z0-9][a-z0-9-]*)-v(?P<version>\d+(?:\.\d+)*)\.ya?ml$")

CHANNELS = {
    "telephone": "téléphone",
    "courriel": "courriel",
    "sms": "SMS",
    "visite": "visite / en personne",
    "note": "note de l'animateur",
    "systeme": "constat sur le SI",
    "presse": "presse",
    "reseaux_sociaux": "réseaux sociaux",
    "radio": "radio / talkie-walkie",
}
LEVELS = {"debutant": "débutant", "intermediaire": "intermédiaire", "confirme": "confirmé"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message (in French) says where and why."""


@dataclass(frozen=True)
class Objective:
    id: str
    text: str


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    mission: str = ""


@dataclass(frozen=True)
class Inject:
    id: str
    offset: int  # minutes from the start of the exercise
    channel: str
    sender: str
    to: tuple[str, ...]
    content: str
    expected: tuple[str, ...]

    @property
    def channel_label(self) -> str:
        return CHANNELS[self.channel]


@dataclass(frozen=True)
class ScaleStep:
    value: int
    label: str


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    objective: str


@dataclass
class Scenario:
    id: str
    version: str
    title: str
    summary: str
    level: str
    duration_minutes: int
    objectives: list[Objective]
    roles: list[Role]
    injects: list[Inject]
    scale: list[ScaleStep]
    criteria: list[Criterion]
    evidence_kind: str = "crisis_exercise"
    evidence_items: list[str] = field(default_factory=list)
    to_confirm: str = ""
    sha256: str = ""

    @property
    def level_label(self) -> str:
        return LEVELS[self.level]

    def role(self, ident: str) -> Role | None:
        return next((r for r in self.roles if r.id == ident), None)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for inject in data["injects"]:
            inject["to"] = list(inject["to"])
            inject["expected"] = list(inject["expected"])
        return data


class _Reader:
    """Reads typed fields out of the YAML document, each error naming the file and the path."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(
            f"{self.where} : {path} : {message}" if path else f"{self.where} : {message}"
        )

    def text(self, node: dict, key: str, path: str, required: bool = True) -> str:
        value = node.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(f"{path}{key}", "champ obligatoire manquant ou vide")
            return ""
        if not isinstance(value, str | int | float):
            raise self.fail(f"{path}{key}", "un texte est attendu")
        return str(value).strip()

    def integer(self, node: dict, key: str, path: str) -> int:
        value = node.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{path}{key}", f"un nombre entier est attendu (reçu : {value!r})")
        return value

    def items(self, node: dict, key: str, path: str = "") -> list[tuple[str, dict]]:
        value = node.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(f"{path}{key}", "une liste non vide est attendue")
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(
                    f"{path}{key}[{index + 1}]", "un élément « clé: valeur » est attendu"
                )
            out.append((f"{path}{key}[{index + 1}].", item))
        return out

    def strings(self, node: dict, key: str, path: str) -> tuple[str, ...]:
        value = node.get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise self.fail(f"{path}{key}", "une liste non vide de textes est attendue")
        return tuple(v.strip() for v in value)

    def unique(self, idents: list[str], what: str) -> None:
        seen: set[str] = set()
        for ident in idents:
            if ident in seen:
                raise self.fail(what, f"identifiant « {ident} » en double")
            seen.add(ident)


def parse(document: Any, where: str = "scénario") -> Scenario:
    """Build and check a scenario from its YAML document (errors name ``where``)."""
    r = _Reader(where)
    if not isinstance(document, dict):
        raise r.fail("", "le fichier doit décrire un scénario (clés id, version, title…)")
    ident = r.text(document, "id", "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ident):
        raise r.fail("id", f"« {ident} » : minuscules, chiffres et tirets seulement")
    version = r.text(document, "version", "")
    level = r.text(document, "level", "")
    if level not in LEVELS:
        raise r.fail("level", f"niveau « {level} » inconnu (attendus : {', '.join(LEVELS)})")
    duration = r.integer(document, "duration_minutes", "")
    if duration <= 0:
        raise r.fail("duration_minutes", "la durée doit être positive")

    objectives = [
        Objective(r.text(o, "id", p), r.text(o, "text", p))
        for p, o in r.items(document, "objectives")
    ]
    r.unique([o.id for o in objectives], "objectives")
    roles = [
        Role(r.text(o, "id", p), r.text(o, "title", p), r.text(o, "mission", p, False))
        for p, o in r.items(document, "roles")
    ]
    r.unique([x.id for x in roles], "roles")
    role_ids = {x.id for x in roles}

    injects = []
    for p, raw in r.items(document, "injects"):
        channel = r.text(raw, "channel", p)
        if channel not in CHANNELS:
            raise r.fail(
                f"{p}channel", f"canal « {channel} » inconnu (attendus : {', '.join(CHANNELS)})"
            )
        offset = r.integer(raw, "offset", p)
        if not 0 <= offset <= duration:
            raise r.fail(
                f"{p}offset",
                f"{offset} min est hors de la durée de l'exercice (0 à {duration} min)",
            )
        to = r.strings(raw, "to", p)
        unknown = [x for x in to if x not in role_ids]
        if unknown:
            raise r.fail(
                f"{p}to", f"rôle(s) inconnu(s) : {', '.join(unknown)} (déclarez-les dans roles)"
            )
        injects.append(
            Inject(
                id=r.text(raw, "id", p),
                offset=offset,
                channel=channel,
                sender=r.text(raw, "from", p),
                to=to,
                content=r.text(raw, "content", p),
                expected=r.strings(raw, "expected", p),
            )
        )
    r.unique([i.id for i in injects], "injects")
    for before, after in zip(injects, injects[1:], strict=False):
        if after.offset < before.offset:
            raise r.fail(
                "injects",
                f"{after.id} ({after.offset} min) précède {before.id} ({before.offset} min) : rangez la chronologie",
            )

    grid = document.get("grid")
    if not isinstance(grid, dict):
        raise r.fail("grid", "la grille d'observation (scale, criteria) est obligatoire")
    scale = [
        ScaleStep(r.integer(s, "value", p), r.text(s, "label", p))
        for p, s in r.items(grid, "scale", "grid.")
    ]
    values = [s.value for s in scale]
    if len(scale) < 2 or values != sorted(set(values)):
        raise r.fail("grid.scale", "au moins deux échelons, de valeurs croissantes et distinctes")
    objective_ids = {o.id for o in objectives}
    criteria = []
    for p, raw in r.items(grid, "criteria", "grid."):
        criterion = Criterion(
            r.text(raw, "id", p), r.text(raw, "text", p), r.text(raw, "objective", p)
        )
        if criterion.objective not in objective_ids:
            raise r.fail(f"{p}objective", f"objectif « {criterion.objective} » inconnu")
        criteria.append(criterion)
    r.unique([c.id for c in criteria], "grid.criteria")
    evidence = document.get("evidence") or {}
    if not isinstance(evidence, dict):
        raise r.fail("evidence", "« kind » et « items » attendus")
    return Scenario(
        id=ident,
        version=version,
        title=r.text(document, "title", ""),
        summary=r.text(document, "summary", ""),
        level=level,
        duration_minutes=duration,
        objectives=objectives,
        roles=roles,
        injects=injects,
        scale=scale,
        criteria=criteria,
        evidence_kind=str(evidence.get("kind") or "crisis_exercise"),
        evidence_items=[str(i) for i in evidence.get("items") or []],
        to_confirm=r.text(document, "to_confirm", "", False),
    )


def read(path: Path) -> Scenario:
    """Load and check one scenario file; its name must be ``<id>-v<version>.yaml``."""
    where = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{where} : fichier illisible ({exc.strerror or exc})") from exc
    try:
        document = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeysLoader)  # noqa: S506 (safe loader)
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where} : le fichier n'est pas en UTF-8") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{where}{line} : YAML illisible ({problem})") from exc
    scenario = parse(document, where)
    match = FILE_NAME.match(path.name)
    if match is None or (match["id"], match["version"]) != (scenario.id, scenario.version):
        raise ScenarioError(
            f"{where} : le fichier doit s'appeler {scenario.id}-v{scenario.version}.yaml "
            "(identifiant et version du scénario)"
        )
    scenario.sha256 = hashlib.sha256(raw).hexdigest()
    return scenario


def _version_key(path: Path) -> tuple[int, ...]:
    match = FILE_NAME.match(path.name)
    return tuple(int(x) for x in match["version"].split(".")) if match else (0,)


def files(directory: Path = LIBRARY_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def shipped(directory: Path = LIBRARY_DIR) -> list[Scenario]:
    """The newest version of every scenario of the library, by title."""
    newest: dict[str, Path] = {}
    for path in files(directory):
        match = FILE_NAME.match(path.name)
        key = match["id"] if match else path.stem
        if key not in newest or _version_key(path) > _version_key(newest[key]):
            newest[key] = path
    return sorted((read(p) for p in newest.values()), key=lambda s: s.title)


def load(ident: str, version: str | None = None, directory: Path = LIBRARY_DIR) -> Scenario:
    """A scenario of the library by id (newest version unless ``version`` is given)."""
    if version is not None:
        path = directory / f"{ident}-v{version}.yaml"
        if not path.exists():
            raise ScenarioError(f"scénario « {ident} » version {version} absent de la bibliothèque")
        return read(path)
    for scenario in shipped(directory):
        if scenario.id == ident:
            return scenario
    known = ", ".join(s.id for s in shipped(directory))
    raise ScenarioError(f"scénario « {ident} » inconnu (disponibles : {known})")


def validate(paths: list[Path]) -> tuple[list[Scenario], list[str]]:
    """Check files (or every file of directories): the valid scenarios and the errors."""
    found, errors = [], []
    for path in paths:
        for item in files(path) if path.is_dir() else [path]:
            try:
                found.append(read(item))
            except ScenarioError as exc:
                errors.append(str(exc))
    return found, errors
