"""The CaRE programme referential as data, and its pure evaluator (no Django import here).

Public API:

- :func:`load_referential`, :func:`load_file`, :func:`validate`, :func:`dump_domain` read and
  check the YAML referential (``careops/catalogue/referential/``);
- :func:`load_dossier`, :func:`parse_dossier`, :class:`Dossier` describe a candidate's dossier;
- :func:`evaluate` computes every item's status, with French reasons;
- :func:`normalize_item_id` and :func:`window_is_open` are small helpers shared by the app.
"""

from .dates import PARIS
from .dossier import (
    Candidate,
    Dossier,
    DossierError,
    Entity,
    Evidence,
    check_dossier,
    load_dossier,
    parse_dossier,
)
from .evaluate import (
    STATUS_LABELS,
    CriterionResult,
    Evaluation,
    ItemResult,
    Progress,
    aggregate,
    evaluate,
)
from .loader import (
    Referential,
    ReferentialError,
    default_directory,
    dump_domain,
    load_file,
    load_referential,
    validate,
)
from .schema import (
    CRITERION_TYPES,
    DOMAIN_CODES,
    DomainVersion,
    Item,
    Programme,
    Window,
    normalize_item_id,
)
from .source import Problem
from .windows import window_is_open

__all__ = [
    "CRITERION_TYPES",
    "DOMAIN_CODES",
    "PARIS",
    "STATUS_LABELS",
    "Candidate",
    "CriterionResult",
    "DomainVersion",
    "Dossier",
    "DossierError",
    "Entity",
    "Evaluation",
    "Evidence",
    "Item",
    "ItemResult",
    "Problem",
    "Programme",
    "Progress",
    "Referential",
    "ReferentialError",
    "Window",
    "aggregate",
    "check_dossier",
    "default_directory",
    "dump_domain",
    "evaluate",
    "load_dossier",
    "load_file",
    "load_referential",
    "normalize_item_id",
    "parse_dossier",
    "validate",
    "window_is_open",
]
