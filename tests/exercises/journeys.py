"""Reusable browser journey: a crisis exercise planned, run live and closed by a RETEX whose
actions then show on the cockpit. Other journeys chain it (e.g. after a maturity self-assessment
and a pathway): give it a Playwright page already logged in as a user who may change the
organisation."""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import assert_accessible


def plan_run_and_retex(
    page,
    base_url: str,
    organisation_pk: int,
    scenario: str = "rancongiciel-dpi",
    action: str = "Imprimer les kits papier des urgences",
    due_on: dt.date | None = None,
) -> int:
    """Plan an exercise from ``scenario``, add a player, run it (deliver the first inject, log a
    decision), rate the grid, end it, write the RETEX with one action, and check the action on
    the cockpit; every page goes through axe-core. Returns the exercise's id."""
    due_on = due_on or dt.date.today() - dt.timedelta(days=2)  # overdue: shown as late
    page.goto(f"{base_url}/exercices/")
    assert_accessible(page, "exercices de crise")
    page.locator("#id_organisation").select_option(str(organisation_pk))
    page.locator("#id_scenario").select_option(scenario)
    page.locator("#id_planned_for").fill("2026-03-12T09:00")
    page.get_by_label("Lieu").fill("Salle de crise")
    page.get_by_role("button", name="Planifier").click()
    page.wait_for_url(f"{base_url}/exercices/*/")
    exercise_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert_accessible(page, "préparation de l'exercice")
    page.locator("#id_p-kind").select_option("player")
    page.locator("#id_p-role").select_option(label="Directeur de crise")
    page.locator("#id_p-name").fill("Mme Durand")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.get_by_role("cell", name="Mme Durand", exact=True).wait_for()

    live = f"{base_url}/exercices/{exercise_pk}/conduite/"
    page.goto(live)
    page.get_by_role("button", name="Démarrer l'exercice").click()
    page.get_by_role("button", name="Pause").wait_for()
    assert_accessible(page, "conduite en direct")
    # htmx: the timeline is swapped in place, the entry is saved at once
    page.locator("#timeline form").first.get_by_role("button").click()
    page.locator("#timeline .badge--met").first.wait_for()
    page.locator("#id_kind").select_option("decision")
    page.locator("#id_text").fill("Coupure de la connexion internet décidée")
    page.get_by_role("button", name="Consigner").click()
    page.locator("#main-courante", has_text="Coupure de la connexion internet décidée").wait_for()
    assert page.locator("#id_text").input_value() == ""  # a fresh form for the next entry
    page.reload()  # nothing lost on a refresh
    assert page.locator("#main-courante", has_text="Coupure de la connexion").count() == 1
    assert_accessible(page, "conduite en direct, après saisie")

    page.goto(f"{base_url}/exercices/{exercise_pk}/grille/")
    page.locator("#id_v_G1").select_option("3")
    page.get_by_role("button", name="Enregistrer ma grille").click()
    page.get_by_text("Votre grille est enregistrée").wait_for()
    assert_accessible(page, "grille d'observation")

    page.goto(live)
    page.get_by_role("button", name="Terminer l'exercice").click()
    page.get_by_role("heading", name="Terminer l'exercice ?").wait_for()
    assert_accessible(page, "confirmation de fin d'exercice")
    page.get_by_role("button", name="Terminer l'exercice").click()
    page.get_by_role("button", name="Terminer l'exercice").wait_for(state="detached")

    retex = f"{base_url}/exercices/{exercise_pk}/retex/"
    page.goto(retex)
    page.locator("#id_s-summary").fill("Cellule armée vite ; mode dégradé lent aux urgences.")
    page.get_by_role("button", name="Enregistrer la synthèse").click()
    page.get_by_text("Synthèse enregistrée.").wait_for()
    page.locator("#id_a-description").fill(action)
    page.locator("#id_a-owner").fill("Cadre des urgences")
    page.locator("#id_a-due_on").fill(due_on.isoformat())
    page.get_by_role("button", name="Ajouter l'action").click()
    page.get_by_role("cell", name=action, exact=True).wait_for()
    assert_accessible(page, "RETEX")
    page.get_by_role("button", name="Valider le RETEX (versé comme preuve)").click()
    page.wait_for_url(f"{base_url}/exercices/{exercise_pk}/")
    page.get_by_text("versé en preuve de D1.O3").first.wait_for()

    page.goto(f"{base_url}/")
    card = page.locator("#retex-actions")
    assert card.get_by_role("link", name=action).count() == 1
    assert card.get_by_text(f"en retard depuis le {due_on:%d/%m/%Y}").count() == 1
    assert_accessible(page, "tableau de bord avec les actions RETEX")
    return exercise_pk
