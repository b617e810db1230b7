"""Loading the referential into the database (the loader is the only writer)."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from careops.catalogue import services
from careops.catalogue.engine import loader
from careops.catalogue.models import Item, ReferentialVersion
from careops.compliance import services as compliance


def test_loading_twice_changes_nothing(db):
    first = services.load_default()
    assert "D2 v1" in first.created
    again = services.load_default()
    assert again.created == []
    assert {"D2 v1", "D2 v1.1"} <= set(again.unchanged)
    assert ReferentialVersion.objects.filter(domain="D2").count() == 2
    assert Item.objects.filter(version__domain="D2", code="D2.O3.A").exists()


def _copy_d2(tmp_path: Path, version: str, mutate) -> Path:
    source = loader.default_directory() / "d2-v1.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["version"] = version
    mutate(data)
    target = tmp_path / f"d2-v{version}.yaml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy(loader.default_directory() / "programme.yaml", tmp_path / "programme.yaml")
    return target


def _retitle(data):
    for item in data["items"]:
        if item["id"] == "D2.P1":
            item["title"] = "PSSI à jour (version 2)"


def test_a_new_version_becomes_current_and_old_assessments_keep_theirs(org_tree, tmp_path):
    services.load_default()
    v1 = ReferentialVersion.objects.get(domain="D2", version="1")
    old = compliance.open_assessment(None, org_tree.ght, v1, dt.date(2025, 10, 20))
    report = services.load_paths([_copy_d2(tmp_path, "2", _retitle)])
    assert report.created == ["D2 v2"]
    v2 = ReferentialVersion.objects.get(domain="D2", version="2")
    assert v2.is_current and not ReferentialVersion.objects.get(pk=v1.pk).is_current
    old.refresh_from_db()
    assert old.referential_version_id == v1.pk
    assert v1.items.get(code="D2.P1").title != "PSSI à jour (version 2)"
    assert v2.items.get(code="D2.P1").title == "PSSI à jour (version 2)"
    compliance.evaluate_assessment(old)  # still evaluates on v1
    assert old.statuses.filter(item_code="D2.P1").exists()


def test_same_version_with_other_content_is_refused(db, tmp_path):
    services.load_default()
    changed = _copy_d2(tmp_path, "1", _retitle)
    with pytest.raises(services.LoadRefused) as caught:
        services.load_paths([changed])
    assert "changez le numéro de version" in caught.value.problems[0]
    v1 = ReferentialVersion.objects.get(domain="D2", version="1")
    assert v1.items.get(code="D2.P1").title != ("PSSI à jour (version 2)")


def test_malformed_file_is_refused_with_file_and_line_and_nothing_loaded(db, tmp_path):
    bad = tmp_path / "d9-v1.yaml"
    bad.write_text(
        "domain: D2\nversion: '7'\nstatus: published\ntitle: Essai\nitems:\n"
        "  - id: D2.P1\n    kind: prerequisite\n    title: PSSI\n    criteria:\n"
        "      - type: no_such_type\n",
        encoding="utf-8",
    )
    with pytest.raises(services.LoadRefused) as caught:
        services.load_paths([bad])
    text = "\n".join(caught.value.problems)
    assert "d9-v1.yaml:10" in text
    assert not ReferentialVersion.objects.exists()
