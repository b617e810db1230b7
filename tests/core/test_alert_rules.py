"""The alert rules shipped in deploy/prometheus: valid rule files naming metrics that exist.

promtool (Debian package prometheus, ~100 MB) is not installed for this: the rules are parsed
here, each expression's metric names are extracted (PromQL functions, keywords, label names,
strings and durations set aside) and checked against what careops exports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import override_settings
from prometheus_client import REGISTRY

from careops.core import metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "careops-alerts.yml"
# Metrics of Prometheus itself and of blackbox_exporter the rules rely on (docs/observability.md).
EXTERNAL = {"up", "probe_success"}
PROMQL_WORDS = {
    # functions
    "abs", "absent", "avg", "ceil", "clamp_min", "count", "delta", "deriv", "floor",
    "histogram_quantile", "increase", "irate", "max", "min", "predict_linear", "rate",
    "round", "sum", "time", "topk",
    # keywords and modifiers
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool",
}  # fmt: skip


def exported_names() -> set[str]:
    """Every sample name careops can export (counters' _total, histograms' _bucket…)."""
    families = [f for f in REGISTRY.collect() if f.name.startswith("careops_")]
    conf = {**settings.METRICS, "platform_repository": "careops", "state_ttl": 0}
    with override_settings(METRICS=conf):
        families += metrics.state_families()
    names = set()
    for family in families:
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        names.update(family.name + s for s in suffixes.get(family.type, [""]))
    return names


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return {w for w in words if w not in PROMQL_WORDS}


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_rule_file_has_the_shape_prometheus_loads():
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert set(document) == {"groups"}
    names = [group["name"] for group in document["groups"]]
    assert len(names) == len(set(names))
    alerts = [rule["alert"] for rule in rules()]
    assert len(alerts) == len(set(alerts))
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smhd]", rule["for"])
        assert rule["expr"].count("(") == rule["expr"].count(")")


@pytest.mark.django_db
def test_every_expression_names_metrics_that_exist():
    exported = exported_names() | EXTERNAL
    for rule in rules():
        unknown = metric_names(rule["expr"]) - exported
        assert not unknown, f"{rule['alert']}: {sorted(unknown)}"


def test_the_alerts_an_operator_needs_are_there():
    expressions = " ".join(rule["expr"] for rule in rules())
    for needed in (
        'probe_success{job="careops-readyz"}',  # readyz failing
        "histogram_quantile(0.95",  # p95 latency
        'status="5xx"',  # 5xx rate
        "careops_task_queue_pending",  # queue depth growing
        'outcome=~"error',  # task failures
        "careops_platform_backup_verification_age_seconds",  # backup verification too old
        "careops_tls_certificate_not_after_timestamp_seconds",  # certificate expiry
    ):
        assert needed in expressions, needed
