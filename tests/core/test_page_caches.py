"""What the national pages compute once instead of once per request or per row (docs/scale.md,
« Où part le CPU d'une page »): what is derived from a referential version is read once per
file, the choice labels are translated once per language, and the home page's candidate cards,
built in one pass, keep their markup and translations."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests.conftest import make_org

pytestmark = pytest.mark.django_db


def test_referential_derivations_read_the_file_once_then_never_again(version):
    from careops.catalogue import bridge
    from careops.catalogue.models import ReferentialVersion

    expected = bridge.domain_of(version)  # the first reader pays for the file
    kinds = bridge.item_kinds(version)
    known = bridge.known_kinds(version)
    assert known == set(version.data["evidence_kinds"])
    assert kinds == {
        item.code: [k for k, _label in bridge.evidence_kinds(item.data)]
        for item in version.items.all()
    }
    labels = dict(bridge.kind_labels("pssi"))
    assert labels == {"pssi": "PSSI"}

    # another request of the same process: the row without its data (deferred) is enough
    light = ReferentialVersion.objects.defer("data").get(pk=version.pk)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert bridge.domain_of(light) is expected
        assert bridge.item_kinds(light) == kinds
        assert bridge.known_kinds(light) == known
    assert len(captured) == 0  # the deferred file was not loaded


def test_another_version_of_the_domain_is_derived_on_its_own(version, tmp_path):
    from careops.catalogue import bridge
    from tests.declarations.conftest import DOMAIN, load_domain

    newer = load_domain(
        {**DOMAIN, "version": "2", "title": "Continuité, deuxième version"}, tmp_path
    )
    assert newer.sha256 != version.sha256
    assert bridge.domain_of(newer).title == "Continuité, deuxième version"
    assert bridge.domain_of(version).title == DOMAIN["title"]


def test_choice_labels_follow_the_language(org_tree):
    from django.template import Context, Template

    from careops.exposure.models import Finding

    finding = Finding(severity="critical", status="open")
    template = Template('{% load careops %}{{ f|display:"severity" }} / {{ f|display:"status" }}')
    with translation.override("fr"):
        french = template.render(Context({"f": finding}))
    with translation.override("en"):
        english = template.render(Context({"f": finding}))
    assert french == f"{finding.get_severity_display()} / {finding.get_status_display()}"
    assert french != english
    with translation.override("en"):
        assert english == f"{finding.get_severity_display()} / {finding.get_status_display()}"


def test_home_cards_show_each_candidate_its_assessments_and_their_progress(
    people, org_tree, version
):
    from careops.compliance.models import Assessment

    t = org_tree
    assessment = Assessment.objects.create(candidate=t.ej_a, referential_version=version)
    Assessment.objects.filter(pk=assessment.pk).update(progress=0.426)
    make_org(t.ght, "ej", "CH <Gamma> & fils", "92000099", category="public")
    client = Client()
    client.force_login(people.rssi)
    page = client.get("/").content.decode()

    card = page[page.index(f'aria-labelledby="cand-{t.ej_a.pk}"') :]
    card = card[: card.index("</section>")]
    assert f'href="/organisations/{t.ej_a.pk}/"' in card and "CH Alpha" in card
    assert "FINESS 92000001" in card
    assert f'href="/evaluations/{assessment.pk}/"' in card
    assert f"{version.domain} — {version.title}" in card
    assert 'aria-valuenow="43"' in card and 'style="width: 43%"' in card and "43 %" in card
    # names are escaped; a candidate without assessment says so
    assert "CH &lt;Gamma&gt; &amp; fils" in page and "CH <Gamma>" not in page
    gamma = page[page.index("CH &lt;Gamma&gt;") :]
    assert "Aucune évaluation ouverte." in gamma[: gamma.index("</section>")]

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    assert 'aria-label="Progress"' in english
    assert "No open assessments." in english
