"""NIS 2 for a structure: its classification with the reason (from its profile, as data), and
the gaps of its last validated NIS 2 self-assessment as its compliance plan (exportable)."""

from __future__ import annotations

import io

from careops.core.spreadsheet import append_row, csv_writer
from careops.maturity.engine import nis2
from careops.maturity.models import Campaign, CampaignStatus, Nis2Profile
from careops.tenancy.choices import OrgKind

QUESTIONNAIRE = "nis2-art21"
PRIORITY_LABELS = {1: "1 — prioritaire", 2: "2", 3: "3"}


def default_sector(organisation) -> str:
    return "esms" if organisation.kind == OrgKind.ESMS else "sante_es"


def classification(organisation) -> tuple[Nis2Profile | None, nis2.Classification | None]:
    profile = Nis2Profile.objects.filter(organisation=organisation).first()
    if profile is None:
        return None, None
    return profile, nis2.classify(
        profile.sector, profile.employees, float(profile.turnover), float(profile.balance)
    )


def last_assessment(organisation) -> Campaign | None:
    return (
        Campaign.objects.filter(
            organisation=organisation, questionnaire=QUESTIONNAIRE, status=CampaignStatus.CLOSED
        )
        .order_by("-closed_at")
        .first()
    )


def plan(campaign: Campaign) -> list[dict]:
    """The measures of the answers below the target (the scale's top answer), by priority then
    by what they would bring, with the answer given."""
    from careops.maturity import services

    questionnaire = services.questionnaire_of(campaign)
    answers = services.answers_of(campaign)
    themes = {t.id: t.title for t in questionnaire.themes}
    rows = []
    for measure in campaign.result.get("measures", []):
        question = questionnaire.question(measure["question"])
        value = answers.get(measure["question"])
        option = questionnaire.option(question, value) if value else None
        rows.append(
            {
                "priority": measure["priority"],
                "priority_label": PRIORITY_LABELS.get(
                    measure["priority"], str(measure["priority"])
                ),
                "question": measure["question"],
                "theme": themes.get(measure["theme"], measure["theme"]),
                "reference": measure["reference"],
                "answer": option.label if option else "sans réponse",
                "measure": measure["text"],
                "gain": round(measure["gain"], 2),
            }
        )
    return rows


HEADERS = ["Priorité", "Question", "Mesure NIS 2", "Thème", "Réponse", "Mesure à prendre", "Gain"]


def _cells(row: dict) -> list:
    return [
        row["priority_label"],
        row["question"],
        row["reference"],
        row["theme"],
        row["answer"],
        row["measure"],
        row["gain"],
    ]


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(_cells(row))
    return out.getvalue()


def to_xlsx(rows: list[dict], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Plan NIS 2"
    append_row(sheet, [title])
    append_row(sheet, HEADERS)
    for row in rows:
        append_row(sheet, _cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
