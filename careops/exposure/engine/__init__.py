"""Exposure-audit engine: no Django. Targets in, typed results out; "now" is always a parameter."""

from careops.exposure.engine.results import Finding, HostResult, ScanResult, Service
from careops.exposure.engine.scanner import ScanOptions, scan, scan_sync

__all__ = ["Finding", "HostResult", "ScanOptions", "ScanResult", "Service", "scan", "scan_sync"]
