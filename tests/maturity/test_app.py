"""Maturity campaigns in the web app: answers with history, pre-filling from careops' data,
validation into evidence, comparison, isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careops.compliance.models import Evidence
from careops.maturity import services
from careops.maturity.models import AnswerChange, Campaign
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.esms)


def test_campaign_answers_prefill_and_validation(client, org_tree, rssi):
    from django.utils import timezone

    from careops.continuity.models import Campaign as BiaCampaign

    BiaCampaign.objects.create(
        organisation=org_tree.esms, title="BIA 2026", validated_at=timezone.now()
    )
    login(client, rssi)
    response = client.post(
        reverse("maturity:index"),
        {"organisation": org_tree.esms.pk, "questionnaire": "diagnostic-ms"},
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("maturity:campaign", args=[campaign.pk])
    url = reverse("maturity:campaign", args=[campaign.pk])
    client.post(
        url,
        {
            "action": "save",
            "ctx_annuaire": "non",
            "ctx_prestataires": "non",
            "G1": "oui",
            "C1": "partiel",
        },
    )
    assert services.answers_of(campaign) == {
        "ctx_annuaire": "non",
        "ctx_prestataires": "non",
        "G1": "oui",
        "C1": "partiel",
    }
    client.post(url, {"action": "prefill"})
    answers = services.answers_of(campaign)
    assert answers["S3"] == "oui"  # the validated BIA
    assert (
        campaign.answers.get(question="S3").note
        == "pré-rempli par careops : analyse d'impact (BIA) validée"
    )
    page = client.get(url).content.decode()
    assert "pré-rempli" in page and "Sans objet au vu du contexte" in page  # C5 hidden
    client.post(url, {"action": "save", **answers, "C1": "oui"})
    change = AnswerChange.objects.filter(question="C1").first()
    assert (change.old_value, change.new_value, change.changed_by) == ("partiel", "oui", rssi)
    response = client.post(url, {"action": "close", **services.answers_of(campaign)})
    campaign.refresh_from_db()
    assert campaign.status == "open"  # questions still unanswered: refused, nothing filed
    everything = {q.id: "oui" for q in services.questionnaire_of(campaign).questions if q.scored}
    client.post(
        url, {"action": "close", **everything, **services.answers_of(campaign), "H3": "non"}
    )
    campaign.refresh_from_db()
    assert campaign.status == "closed" and campaign.result["level"] >= 1
    evidence = Evidence.objects.get(pk=campaign.evidence_id)
    assert evidence.kind == "maturity_questionnaire" and evidence.item_codes == [
        "D1.O4",
        "AAPMS.O1",
    ]
    revision = evidence.revisions.get()
    assert revision.attributes["level"] == campaign.result["level"]
    result = client.get(reverse("maturity:result", args=[campaign.pk])).content.decode()
    assert "<svg" in result and "Mesures prioritaires" in result
    pdf = client.get(reverse("maturity:report_pdf", args=[campaign.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # a closed campaign cannot be changed; a new one compares with it
    client.post(url, {"action": "save", "G1": "non"})
    assert services.answers_of(campaign)["G1"] == "oui"
    second = services.open_campaign(rssi, org_tree.esms, "diagnostic-ms")
    services.save_answers(
        rssi, second, {"ctx_annuaire": "non", "ctx_prestataires": "non", "G1": "non"}
    )
    assert services.previous(second) == campaign
    compared = client.get(reverse("maturity:result", args=[second.pk])).content.decode()
    assert "comparé à" in compared


def test_isolation_and_bad_answers(client, org_tree, rssi, make_user):
    campaign = services.open_campaign(rssi, org_tree.esms, "nis2-art21")
    outsider = make_user("es_rssi", org_tree.ej_other)
    login(client, outsider)
    for name in ("maturity:campaign", "maturity:result", "maturity:report_pdf"):
        assert client.get(reverse(name, args=[campaign.pk])).status_code == 404
    index = client.get(reverse("maturity:index")).content.decode()
    assert reverse("maturity:campaign", args=[campaign.pk]) not in index
    client.logout()
    login(client, rssi)
    response = client.post(
        reverse("maturity:campaign", args=[campaign.pk]), {"action": "save", "A1": "peut-être"}
    )
    assert response.status_code == 200  # the form refuses a value outside the scale
    assert "dans l'échelle proposée : rien n'a été enregistré" in response.content.decode()
    assert services.answers_of(campaign) == {}
    with pytest.raises(Exception, match="question\\(s\\) sans réponse"):
        services.close_campaign(rssi, campaign)
    assert campaign.evidence_id is None


def test_the_radar_writes_every_theme_name_whole():
    """A theme's name was cut at 28 characters mid-word (« Réseau et exposition sur int »)."""
    import re

    from careops.maturity import charts

    titles = [
        "Gouvernance et pilotage",
        "Postes, serveurs et mises à jour",
        "Réseau et exposition sur internet",
        "Sensibilisation et gestion de crise",
    ]
    svg = charts.radar([{"id": str(n), "title": t, "score": 0.5} for n, t in enumerate(titles)])
    labels = re.findall(r"<text [^>]*>(.*?)</text>", svg)
    words = [" ".join(re.findall(r"<tspan [^>]*>(.*?)</tspan>", label)) for label in labels]
    assert words == titles
    assert 'viewBox="-110 0 680 460"' in svg  # room for the names beside the chart


def test_evolution_between_campaigns_is_in_points_not_percent(client, org_tree, rssi):
    """Gouvernance 100 % then 50 %: a fall of 50 points, not « -50 % » (half of it)."""
    context = {"ctx_annuaire": "non", "ctx_prestataires": "non"}
    scored = [q.id for q in engine_questions("diagnostic-ms") if q.scored]
    first = services.open_campaign(rssi, org_tree.esms, "diagnostic-ms")
    services.save_answers(rssi, first, context | {q: "oui" for q in scored})
    services.close_campaign(rssi, first)
    second = services.open_campaign(rssi, org_tree.esms, "diagnostic-ms")
    services.save_answers(
        rssi, second, context | {q: "oui" for q in scored} | {"G1": "non", "G2": "partiel"}
    )
    services.close_campaign(rssi, second)
    login(client, rssi)
    page = client.get(reverse("maturity:result", args=[second.pk])).content.decode()
    assert "Évolution (points de score)" in page
    # gouvernance: (0 + 0.5 + 1) / 3 = 50 % against 100 %
    assert "<td>−50 pts</td>" in page and "<td>0 pts</td>" in page
    assert "-50\u00a0%" not in page


def engine_questions(ident):
    from careops.maturity.engine import questionnaire as engine

    return engine.load(ident).questions
