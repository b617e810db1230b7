"""gunicorn's access logger for ``careops serve``, with secrets in request lines masked
(password-reset keys, e-mail confirmation keys, OpenID Connect codes: ``logs.loggable_uri``).

Its own module, imported by gunicorn (``logger_class``) only: ``careops.core.serve`` stays free
of gunicorn for ``--print-config`` and the tests.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from careops.core.logs import loggable_uri


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        uri = loggable_uri(environ.get("RAW_URI") or "")
        atoms["r"] = f"{environ['REQUEST_METHOD']} {uri} {environ['SERVER_PROTOCOL']}"
        atoms["U"] = loggable_uri(environ.get("PATH_INFO") or "")
        atoms["q"] = loggable_uri("?" + (environ.get("QUERY_STRING") or ""))[1:]
        atoms["f"] = loggable_uri(environ.get("HTTP_REFERER") or "-")
        return atoms
