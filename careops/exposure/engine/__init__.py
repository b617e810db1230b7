"""Exposure-audit engine: no Django. Targets in, typed results out; "now" is always a parameter.

The names below are loaded on first use, so that a module of the engine imported alone (the
run's sslyze process imports ``tls`` only) does not pay for the whole engine."""

from __future__ import annotations

import importlib

_NAMES = {
    "Finding": "results",
    "HostResult": "results",
    "ScanResult": "results",
    "Service": "results",
    "ScanOptions": "scanner",
    "scan": "scanner",
    "scan_sync": "scanner",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
