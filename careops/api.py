"""The REST API (django-ninja), OpenAPI schema at /api/docs; every router uses scope.restrict."""

import json
import logging
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404, HttpResponseNotAllowed
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import PathView
from ninja.parser import Parser

from careops.core.middleware import session_satisfies_mfa
from careops.core.tokens import MfaSessionAuth, TokenAuth


def docs_behind_login(view):
    """The API documentation and schema: for signed-in users whose MFA rule is met."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not session_satisfies_mfa(request, request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# Answers every operation may give besides its own (documented in the OpenAPI document).
_COMMON_ANSWERS = {
    "401": "Authentification requise : jeton absent, invalide ou expiré, ou session sans la "
    "double authentification exigée par le rôle.",
    "422": "Entrée invalide (paramètre, corps ou fichier) : message en français par champ.",
}
_WRITE_ANSWERS = {"403": "Droits insuffisants, ou jeton en lecture seule."}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array"}},
    },
    "required": ["detail"],
}

# French wording of pydantic's error types (the API's clients read these messages).
_FRENCH = {
    "missing": "champ obligatoire",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure attendues (ISO 8601)",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "json_invalid": "JSON invalide",
    "enum": "valeur non prévue",
    "literal_error": "valeur non prévue",
}


def _french(error: dict) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "less_than_equal":
        return f"doit être inférieur ou égal à {context.get('le')}"
    if kind == "greater_than_equal":
        return f"doit être supérieur ou égal à {context.get('ge')}"
    if kind == "string_too_long":
        return f"au plus {context.get('max_length')} caractères"
    return _FRENCH.get(kind, "valeur invalide")


_NUL_REFUSED = (
    "Entrée invalide — %(field)s : caractère nul (\\u0000) refusé ; retirez-le du texte envoyé."
)


class NulCharacter(ValueError):
    """A text of the request carries a NUL character (PostgreSQL stores none: a 500 before)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def _refuse_nul(data, field: str = "") -> None:
    if isinstance(data, str):
        if "\x00" in data:
            raise NulCharacter(field or "__all__")
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{field}.{key}" if field else str(key)
            _refuse_nul(key, name)
            _refuse_nul(value, name)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _refuse_nul(value, f"{field}.{index}" if field else str(index))


def _nul_answer(request, exc: NulCharacter):
    message = _NUL_REFUSED % {"field": exc.field}
    return api.create_response(
        request, {"detail": message, "errors": {exc.field: [message]}}, status=422
    )


class NulRefusingParser(Parser):
    """JSON bodies, query strings and form fields without NUL characters."""

    def parse_body(self, request):
        data = super().parse_body(request)
        _refuse_nul(data)  # django-ninja wraps it in its 400; _http_error answers it
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        _refuse_nul(result)
        return result


class CareopsAPI(NinjaAPI):
    """The API, with the answers every operation may give written into its OpenAPI document."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault(
            "ErrorOut", _ERROR_SCHEMA
        )
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                answers = operation.setdefault("responses", {})
                extra = dict(_COMMON_ANSWERS)
                if method in {"post", "put", "patch", "delete"}:
                    extra.update(_WRITE_ANSWERS)
                for code, description in extra.items():
                    if code not in answers and int(code) not in answers:
                        answers[int(code)] = {"description": description, "content": error}
        return schema


api = CareopsAPI(
    title="careops API",
    version="1",
    description=(
        "API de la plateforme careops (programme CaRE, axe 4). Authentification : jeton "
        "`Authorization: Bearer cop_…` (créé sur /compte/jetons/ ou par `careops token create`) "
        "ou session du navigateur, une fois la double authentification faite pour les rôles qui "
        "l'exigent. Un jeton en lecture seule est refusé (403) sur POST, PUT, PATCH et DELETE. "
        "Les listes répondent `{items, count}` ; `limit` (1–500) et `offset` (0–1 000 000) "
        "sont bornés (422 au-delà)."
    ),
    auth=[TokenAuth(), MfaSessionAuth()],
    parser=NulRefusingParser(),
    urls_namespace="api",
    docs_decorator=docs_behind_login,
)


@api.exception_handler(NinjaValidationError)
def _invalid_input(request, exc: NinjaValidationError):
    """A rejected input: one French message per field, in the shape of ``ErrorOut``."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        skip = {"query", "body", "path", "form", "file", "payload", "filters", "pagination"}
        field = ".".join(str(p) for p in error.get("loc", ()) if p not in skip) or "__all__"
        errors.setdefault(field, []).append(_french(error))
    detail = " ; ".join(f"{field} : {', '.join(messages)}" for field, messages in errors.items())
    return api.create_response(
        request, {"detail": f"Entrée invalide — {detail}.", "errors": errors}, status=422
    )


_AUTHENTICATION_REQUIRED = (
    "Authentification requise : jeton « Authorization: Bearer cop_… » valide, ou session du "
    "navigateur après la double authentification."
)
_UNREADABLE_BODY = (
    "Corps de la requête illisible : JSON valide attendu (Content-Type: application/json), ou "
    "formulaire multipart pour un dépôt de fichier."
)
_CSRF_REFUSED = (
    "Requête refusée : jeton CSRF absent ou invalide (en-tête X-CSRFToken de la session du "
    "navigateur) ; un script s'authentifie par « Authorization: Bearer cop_… »."
)
_HTTP_ERRORS_IN_FRENCH = {
    401: _AUTHENTICATION_REQUIRED,
    403: "Accès refusé : votre rôle ne permet pas cette opération.",
    429: "Trop de requêtes : réessayez plus tard.",
}


api.exception_handler(NulCharacter)(_nul_answer)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc: AuthenticationError):
    return api.create_response(request, {"detail": _AUTHENTICATION_REQUIRED}, status=401)


@api.exception_handler(AuthorizationError)
def _forbidden(request, exc: AuthorizationError):
    return api.create_response(request, {"detail": _HTTP_ERRORS_IN_FRENCH[403]}, status=403)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    """django-ninja's own errors (English) in French; ours are French already."""
    if isinstance(exc.__cause__, NulCharacter):  # refused by the parser inside a JSON body
        return _nul_answer(request, exc.__cause__)
    english = exc.message in {"Unauthorized", "Forbidden", "Too many requests."}
    detail = _HTTP_ERRORS_IN_FRENCH.get(exc.status_code) if english else None
    if exc.message.startswith("Cannot parse request body"):  # malformed JSON, wrong encoding…
        detail = _UNREADABLE_BODY
    elif exc.message == "CSRF check Failed":  # a signed-in browser session without the token
        detail = _CSRF_REFUSED
    return api.create_response(request, {"detail": detail or exc.message}, status=exc.status_code)


_DATA_REFUSED = (
    "Valeur refusée par la base de données : un texte trop long ou un nombre hors limites pour "
    "l'un des champs envoyés ; rien n'a été enregistré."
)


@api.exception_handler(DataError)
def _data_error(request, exc: DataError):
    """A value the schema let through but the database refuses (a text longer than its column,
    a number out of range on PostgreSQL): a French 422, not a 500; the write was rolled back."""
    logging.getLogger("careops.api").warning(
        "API %s %s: value refused by the database (%s)",
        request.method,
        request.path,
        exc.__class__.__name__,
    )
    return api.create_response(request, {"detail": _DATA_REFUSED}, status=422)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, {"detail": "Introuvable."}, status=404)


def _method_not_allowed(self) -> HttpResponseNotAllowed:
    """A method the path does not offer: the allowed ones, said in French and in JSON."""
    allowed = sorted({method for operation in self.operations for method in operation.methods})
    detail = f"Méthode non permise ici ; méthodes permises : {', '.join(allowed)}."
    response = HttpResponseNotAllowed(allowed, content_type="application/json")
    response.content = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    return response


PathView._not_allowed = _method_not_allowed  # django-ninja answers 405 in English plain text


from careops.awareness.api import router as awareness_router  # noqa: E402
from careops.backups.api import router as backups_router  # noqa: E402
from careops.catalogue.api import router as catalogue_router  # noqa: E402
from careops.compliance.api import router as compliance_router  # noqa: E402
from careops.continuity.api import router as continuity_router  # noqa: E402
from careops.core.api import router as core_router  # noqa: E402
from careops.declarations.api import router as declarations_router  # noqa: E402
from careops.directory.api import router as directory_router  # noqa: E402
from careops.exercises.api import router as exercises_router  # noqa: E402
from careops.exposure.api import router as exposure_router  # noqa: E402
from careops.hospiconnect.api import router as hospiconnect_router  # noqa: E402
from careops.maturity.api import router as maturity_router  # noqa: E402
from careops.remote_access.api import router as remote_access_router  # noqa: E402
from careops.tenancy.api import router as tenancy_router  # noqa: E402

api.add_router("/system", core_router)
api.add_router("/organisations", tenancy_router)
api.add_router("/referential", catalogue_router)
api.add_router("/exposure", exposure_router)
api.add_router("/directory", directory_router)
api.add_router("/continuity", continuity_router)
api.add_router("/backups", backups_router)
api.add_router("/remote-access", remote_access_router)
api.add_router("/declarations", declarations_router)
api.add_router("/hospiconnect", hospiconnect_router)
api.add_router("/maturity", maturity_router)
api.add_router("/awareness", awareness_router)
api.add_router("/exercises", exercises_router)
api.add_router("/", compliance_router)
