"""Helpers of the maturity tests: a validated self-assessment, a pool with its convention."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from careops.maturity import pools, services


def validated(user, organisation, questionnaire="diagnostic-ms", value="partiel", context="non"):
    """Open, answer every question (``value``; context questions ``context``) and validate."""
    campaign = services.open_campaign(user, organisation, questionnaire)
    q = services.questionnaire_of(campaign)
    answers = {
        question.id: (value if question.scored else context)
        for question in q.questions
        if q.shown(question, {c.id: context for c in q.questions if not c.scored})
    }
    services.save_answers(user, campaign, answers)
    services.close_campaign(user, campaign)
    campaign.refresh_from_db()
    return campaign


def convention_pdf(name="convention.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% convention de mutualisation\n", "application/pdf")


def pool_with_members(
    authority, region, staff, members, starts=None, ends=None, name="RSSI mutualisé 92"
):
    """A pool in force today (or between ``starts`` and ``ends``) whose members accepted."""
    from careops.compliance.services import today_in_paris

    today = today_in_paris()
    pool = pools.create_pool(authority, region, name, "rssi", "GHT Test Val-de-Seine")
    for person in staff:
        pools.add_staff(authority, pool, person.username)
    pools.add_convention(
        authority,
        pool,
        convention_pdf(),
        starts or today - dt.timedelta(days=30),
        ends or today + dt.timedelta(days=335),
    )
    memberships = []
    for organisation, rssi in members:
        membership = pools.invite(authority, pool, organisation)
        pools.answer(rssi, membership, accept=True)
        memberships.append(membership)
    return pool, memberships
