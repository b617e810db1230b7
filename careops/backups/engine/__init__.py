"""Backup verification engine (no Django): restic and borg drivers, freshness against RPO,
rotating integrity checks, restore tests with checksums, immutability probes, job-report import.

Input is a configuration (``config.load_config``) or driver objects; output is typed,
JSON-serialisable results (``results``). ``verify.run_verification`` runs a whole configuration.
"""
