"""The text report of ``careops evaluate``: eligibility first, then every status with its
reasons, then progress and the indicative funding share with why it is 0 when it is."""

from __future__ import annotations

from .evaluate import STATUS_LABELS, Evaluation


def eligibility_lines(evaluation: Evaluation) -> list[str]:
    """« Éligibilité : NON ÉLIGIBLE » and the rule that refuses, before any status."""
    eligibility = evaluation.eligibility
    if not eligibility:
        return []
    lines = []
    if eligibility.get("eligible"):
        lines.append("Éligibilité : éligible")
        lines.extend(f"    – {check}" for check in eligibility.get("checks", []))
    else:
        lines.append(
            "Éligibilité : NON ÉLIGIBLE — « non éligible » au domaine "
            f"{evaluation.domain} ; statuts donnés à titre indicatif, aucun financement n'est dû"
        )
        lines.extend(f"    – non éligible : {reason}" for reason in eligibility.get("reasons", []))
    lines.extend(f"    – à confirmer : {note}" for note in eligibility.get("notes", []))
    return lines


def text_lines(evaluation: Evaluation) -> list[str]:
    """The whole text report, one line per entry."""
    lines = [
        f"{evaluation.domain} v{evaluation.version} — {evaluation.candidate.get('name')} "
        f"(au {evaluation.reference_date:%d/%m/%Y})",
        *eligibility_lines(evaluation),
    ]
    for result in evaluation.results:
        indent = "  " if result.parent else ""
        lines.append(
            f"{indent}{result.id:<10} {STATUS_LABELS[result.status].upper():<22} {result.title}"
        )
        lines.extend(f"{indent}    – {reason}" for reason in result.reasons)
    progress = evaluation.progress
    lines.append(f"Avancement : {progress.met}/{progress.applicable} ({progress.ratio:.0%})")
    share = f"{progress.funding_share:.0%}".replace(".", ",")
    confirm = " (formule à confirmer)" if progress.funding_to_confirm else ""
    lines.append(
        f"Part de financement indicative : {share}, règle « {progress.funding_rule} »{confirm}"
    )
    lines.extend(f"    – part nulle : {reason}" for reason in progress.funding_reasons)
    return lines
