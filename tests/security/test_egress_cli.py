"""``careops egress``: the administrator's switch for internal targets, and its list."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("careops_egress", *args, stdout=out)
    return out.getvalue()


def test_list_says_when_no_organisation_may_reach_internal_targets(org_tree):
    assert "Aucune organisation n'est autorisée à viser des cibles internes" in _run("list")


def test_enabling_needs_a_reason_then_lists_the_organisation_until_disabled(org_tree):
    with pytest.raises(CommandError):
        _run("internal-targets", str(org_tree.ej_b.pk), "--enable")
    done = _run("internal-targets", str(org_tree.ej_b.pk), "--enable", "--reason", "audit interne")
    assert f"Cibles internes autorisées pour {org_tree.ej_b}" in done
    assert _run("list").splitlines() == [f"{org_tree.ej_b.pk}\t{org_tree.ej_b}"]
    _run("internal-targets", str(org_tree.ej_b.pk), "--disable")
    assert "Aucune organisation" in _run("list")
    with pytest.raises(CommandError, match="introuvable ou ambiguë"):
        _run("internal-targets", "pas-une-organisation", "--disable")
