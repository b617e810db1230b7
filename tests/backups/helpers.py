"""Configuration builders shared by the backup tests."""

from __future__ import annotations

from pathlib import Path

from careops.backups.engine.config import parse_config


def restic_config(world: Path, **checks):
    """A configuration with the restic repository of ``world`` and its two systems."""
    return parse_config(
        {
            "state_file": "state.json",
            "repositories": [
                {
                    "name": "restic-dpi",
                    "driver": "restic",
                    "location": str(world / "restic"),
                    "password_file": "password",
                    "checks": {"structure": True, **checks},
                }
            ],
            "systems": [
                {
                    "name": "dpi",
                    "rpo_hours": 24,
                    "rto_hours": 4,
                    "repository": "restic-dpi",
                    "match": {"host": "app01", "tags": ["dpi"]},
                },
                {
                    "name": "rh",
                    "rpo_hours": 24,
                    "repository": "restic-dpi",
                    "match": {"host": "old01"},
                },
            ],
        },
        base_dir=str(world),
    )


def borg_config(world: Path, **checks):
    """A configuration with the borg repository of ``world`` and its two systems."""
    return parse_config(
        {
            "repositories": [
                {
                    "name": "borg-dpi",
                    "driver": "borg",
                    "location": str(world / "borg"),
                    "password_file": "password",
                    "cache_dir": "borg-home",
                    "checks": {"structure": True, **checks},
                }
            ],
            "systems": [
                {
                    "name": "dpi",
                    "rpo_hours": 24,
                    "repository": "borg-dpi",
                    "match": {"archive_glob": "dpi-*"},
                },
                {
                    "name": "rh",
                    "rpo_hours": 24,
                    "repository": "borg-dpi",
                    "match": {"archive_glob": "rh-*"},
                },
            ],
        },
        base_dir=str(world),
    )


def check(report, name: str):
    """The check called ``name`` in a repository or system report."""
    return next(c for c in report.checks if c.name == name)
