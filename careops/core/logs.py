"""Log lines with their context: one JSON object per line (or text), a request id per request.

Every line written while a request is served carries that request's id (taken from the reverse
proxy's ``X-Request-ID`` when careops is behind a trusted proxy and the value is sane, generated
otherwise, and returned in the response), the signed-in user's id and the organisation named by
the URL. A task enqueued during the request carries the same id into the worker, so that the
lines of a scan or an audit lead back to the click that started it. Lines carry ids, never user
names, e-mail addresses or secrets.

This module imports nothing from Django at import time: the settings use it to build LOGGING.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and . _ : - ; 8 to 128 characters (nginx's $request_id is 32 hex digits).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
# The keyword argument that carries the log context through the queue; taken out before the
# task's function runs, so tasks never see it.
TASK_KWARG = "_careops_log_context"
# URL keyword arguments that name an organisation.
_ORGANISATION_KWARGS = ("org_pk", "organisation_id", "org_id")
# Pages of an organisation itself, whose "pk" is that organisation.
_ORGANISATION_PAGES = {
    "tenancy:detail": "pk",
    "tenancy:edit": "pk",
    "tenancy:role_grant": "pk",
    "tenancy:create": "parent_pk",
}
_FIELDS = ("request_id", "user_id", "organisation_id", "task", "task_id")
_TEXT_NAMES = {
    "request_id": "req",
    "user_id": "user",
    "organisation_id": "org",
    "task": "task",
    "task_id": "task_id",
}


@dataclass
class LogContext:
    """What the log lines of the current request or task say about their origin."""

    request_id: str | None = None
    user_id: int | None = None
    organisation_id: int | None = None
    task: str | None = None
    task_id: str | None = None


_current: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar(
    "careops_log_context", default=None
)


def current() -> LogContext | None:
    """The log context of the request or task being served by this thread, if any."""
    return _current.get()


def note_user(user) -> None:
    """Record the authenticated user's id in the current context (API token authentication
    happens after the middleware)."""
    context = _current.get()
    if context is not None and getattr(user, "is_authenticated", False):
        context.user_id = user.pk


def sane_request_id(value: str | None) -> bool:
    """Whether an incoming request id may be reused as it is (bounded length and charset)."""
    return bool(value) and _SANE_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


MASK = "[masqué]"
# Secrets that have a recognisable shape: bearer credentials, careops API tokens, AWS key ids,
# "name=value" pairs whose name says secret, and passwords inside URLs.
_SECRET_SHAPES = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    (re.compile(r"\bcop_[A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (
        re.compile(
            r"(?i)\b([\w-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[\w-]*)"
            r"([\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"
        ),
        r"\1\2" + MASK,
    ),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1" + MASK + "@"),
]
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY")
_known_secrets: list[str] | None = None


def _configured_secrets() -> list[str]:
    """Values of the configuration that are secrets (by their name: SECRET, PASSWORD, TOKEN,
    KEY), longest first; read once, from Django's settings when they are ready."""
    global _known_secrets
    if _known_secrets is None:
        from django.conf import settings

        if not settings.configured:
            return []
        values = {str(settings.SECRET_KEY)}
        for name, value in getattr(settings, "CONFIG", {}).items():
            if _SECRET_NAME.search(name) and isinstance(value, str):
                values.update(part.strip() for part in value.split(","))
        values.add(str(settings.DATABASES["default"].get("PASSWORD") or ""))
        values.add(str(getattr(settings, "EMAIL_HOST_PASSWORD", "") or ""))
        for provider in getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}).values():
            values.update(str(app.get("secret") or "") for app in provider.get("APPS", []))
        _known_secrets = sorted((v for v in values if len(v) >= 8), key=len, reverse=True)
    return _known_secrets


def redact(text: str) -> str:
    """The text with every configured secret and every secret-shaped value masked."""
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


# Paths whose last part is a secret (allauth's password-reset and e-mail confirmation keys), and
# query parameters that carry one (OpenID Connect's code and state, tokens): masked in access logs.
_SECRET_PATH = re.compile(r"^(/accounts/(?:password/reset/key|confirm-email)/)[^/?#]+")
_SECRET_PARAMETER = re.compile(
    r"(^|[&;])((?:code|state|session_state|id_token|access_token|token|key|ticket|password"
    r"|secret|otp|sig|signature)=)[^&;#]*",
    re.IGNORECASE,
)
URL_MASK = "***"  # ASCII: nginx escapes other bytes in its access log


def loggable_uri(uri: str) -> str:
    """``uri`` (path and query) as an access log may keep it: secrets in the path or the query
    string masked, the rest (which page, which filter) left for the operator."""
    origin = re.match(r"^[a-z][a-z0-9+.-]*://[^/?#]*", uri, re.IGNORECASE)  # a Referer's
    if origin:
        return origin.group(0) + loggable_uri(uri[origin.end() :] or "/")
    path, separator, query = uri.partition("?")
    path = _SECRET_PATH.sub(lambda found: found.group(1) + URL_MASK, path)
    if separator:
        query = _SECRET_PARAMETER.sub(
            lambda found: found.group(1) + found.group(2) + URL_MASK, query
        )
    return path + separator + query


_QUOTED = re.compile(r"«[^»]*»")


def without_quoted_values(text: str) -> str:
    """A refusal message as the log keeps it: what the user's file held, quoted « … » in the
    French messages (staff names, e-mail addresses, RPPS numbers), left out; the line numbers
    and the kind of error stay. The user sees the whole message on the page."""
    return _QUOTED.sub("«…»", str(text))


class ContextFilter(logging.Filter):
    """Give every record the fields of the current context (``None`` where unknown), and mask
    the secrets its message might hold (a last line of defence: code never logs secrets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and getattr(record, "status_code", 500) < 500:
            # django.request's 403 and 404 carry the PermissionDenied / Http404 raised by the
            # view: an expected answer, whose traceback would bury the real errors
            record.exc_info = record.exc_text = None
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        context = _current.get()
        if context is None:
            # django.request logs 4xx/5xx answers after the middleware chain has returned
            context = getattr(getattr(record, "request", None), "careops_log_context", None)
        for field in _FIELDS:
            if not hasattr(record, field):
                setattr(record, field, getattr(context, field, None))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, then the context fields known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in _FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The human format of ``careops run``: the context in brackets after the logger name."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def formatException(self, exc_info) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(exc_info))

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        parts = [
            f"{_TEXT_NAMES[field]}={value}"
            for field in _FIELDS
            if (value := getattr(record, field, None)) is not None
        ]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().formatMessage(record)


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """The LOGGING setting: every careops, Django request/security and huey line, in the chosen
    format ("json" or "text"), with the context filter on the one console handler."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "careops.core.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "careops.core.logs.JsonFormatter"},
            "text": {"()": "careops.core.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["context"],
            }
        },
        "loggers": {
            # propagate=False: a root handler (added by huey or waitress) must not print lines twice
            "careops": {"handlers": ["console"], "level": level, "propagate": False},
            "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "huey": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }


class RequestIdMiddleware:
    """Give each request an id (the proxy's if sane, else a new one), expose it to the log lines
    written while serving it, and return it in the ``X-Request-ID`` response header."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        # The header is the proxy's only when careops sits behind one (which overwrites it).
        self.trust_header = settings.ALLAUTH_TRUSTED_PROXY_COUNT > 0

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID") if self.trust_header else None
        context = LogContext(incoming if sane_request_id(incoming) else new_request_id())
        request.request_id = context.request_id
        request.careops_log_context = context
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = context.request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Once authentication has run: note the user's and the URL's organisation's ids."""
        context = getattr(request, "careops_log_context", None)
        if context is None:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context.user_id = user.pk
        match = getattr(request, "resolver_match", None)
        names = _ORGANISATION_KWARGS
        if match is not None and match.view_name in _ORGANISATION_PAGES:
            names = (_ORGANISATION_PAGES[match.view_name], *names)
        for name in names:
            if isinstance(view_kwargs.get(name), int):
                context.organisation_id = view_kwargs[name]
                break
        return None


def install_task_propagation(huey) -> None:
    """Carry the log context of whoever enqueues a task (a request, or another task) into the
    task's own log lines, through a keyword argument taken out again before the task runs."""
    if getattr(huey, "_careops_log_propagation", False):
        return
    from huey.api import PeriodicTask, chord, group

    enqueue = huey.enqueue

    def enqueue_with_context(task):
        context = _current.get()
        if (
            context is not None
            and context.request_id
            and not isinstance(task, group | chord | PeriodicTask)
            and isinstance(task.kwargs, dict)
        ):
            carried = {
                "request_id": context.request_id,
                "user_id": context.user_id,
                "organisation_id": context.organisation_id,
            }
            task.kwargs.setdefault(TASK_KWARG, carried)
        return enqueue(task)

    def enter(task) -> None:
        carried = task.kwargs.pop(TASK_KWARG, None) if isinstance(task.kwargs, dict) else None
        task._careops_carried = carried
        base = LogContext(**carried) if isinstance(carried, dict) else LogContext()
        task._careops_log_token = _current.set(replace(base, task=task.name, task_id=str(task.id)))

    def leave(task, value, exception) -> None:
        carried = getattr(task, "_careops_carried", None)
        if exception is not None and task.retries and carried is not None:
            task.kwargs[TASK_KWARG] = carried  # the retry is requeued with its context
        token = getattr(task, "_careops_log_token", None)
        if token is not None:
            _current.reset(token)
            task._careops_log_token = None

    huey.enqueue = enqueue_with_context
    huey.pre_execute(name="careops_log_context")(enter)
    huey.post_execute(name="careops_log_context")(leave)
    huey._careops_log_propagation = True


def context_dict() -> dict[str, Any]:
    """The current context as a dictionary (for tests and diagnostics)."""
    context = _current.get()
    return asdict(context) if context is not None else {}
