"""`/metrics` after a journey: the counters move, a dead letter and an AI fallback provoked on
purpose are counted, and every metric the alert rules and the Grafana dashboard name is exported."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, SecretStr

from journey_local.procs import free_port
from servicekit.ai import OpenAIProvider, StructuredTask
from servicekit.metrics import serve_metrics
from servicekit.testing import FakeOpenAI, eventually

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
REQUESTED = "journey.profiler.persona.requested"
COMPLETE_ROUTE = "/api/v1/profiler/sessions/{session_id}/complete"
WRITER = "profiler-persona-writer"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples carrying `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


class Tiny(BaseModel):
    word: str


@dataclass
class Scrapes:
    before: Samples
    after: Samples
    exposition: str


async def _scrape(url: str) -> str:
    async with httpx.AsyncClient() as http:  # from the test's loop: the samplers run on it meanwhile
        response = await http.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture(scope="module")
async def scrapes(
    client: Any, worker: Any, users: Any, complete: Any, settings: Any, infra: Any
) -> AsyncIterator[Scrapes]:
    port = free_port()
    stop = serve_metrics(port)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        before = parse(await _scrape(url))
        # A journey: a questionnaire completed, its persona written by the worker.
        await complete(client, users)
        # A dead letter on purpose: a message on the persona subject that is not an envelope.
        garbage = f"not an envelope {uuid.uuid4()}".encode()
        nc = await nats.connect(infra.nats_url)
        try:
            await nc.jetstream().publish(REQUESTED, garbage)
        finally:
            await nc.close()

        async def dead_lettered() -> bool:
            with psycopg.connect(infra.admin_dsn) as conn:
                row = conn.execute(
                    "SELECT 1 FROM profiler.dead_letters WHERE consumer = %s AND payload = %s",
                    (WRITER, garbage.decode()),
                ).fetchone()
            return row is not None

        await eventually(dead_lettered, within=20)
        # An AI fallback on purpose: the model keeps answering what the schema refuses.
        with FakeOpenAI(answer=json.dumps({"nope": 1})) as fake:
            provider = OpenAIProvider(
                settings.model_copy(
                    update={"openai_base_url": fake.url, "openai_api_key": SecretStr("sk-test"), "ai_max_attempts": 2}
                )
            )
            task = StructuredTask("metrics_probe", "say a word", {}, Tiny, lambda: Tiny(word="offline"))
            result = await provider.generate(task)
        assert result.fallback
        exposition = await _scrape(url)
        yield Scrapes(before, parse(exposition), exposition)
    finally:
        stop()


def moved(scrapes: Scrapes, name: str, **labels: str) -> float:
    return value(scrapes.after, name, **labels) - value(scrapes.before, name, **labels)


async def test_a_journey_moves_the_counters(scrapes: Scrapes) -> None:
    http = {"service": "profiler", "route": COMPLETE_ROUTE, "method": "POST"}
    assert moved(scrapes, "journey_http_requests_total", status="202", **http) >= 1
    assert moved(scrapes, "journey_http_request_duration_seconds_count", **http) >= 1
    assert moved(scrapes, "journey_outbox_published_total", service="profiler") >= 1
    consumer = {"service": "profiler", "consumer": WRITER}
    assert moved(scrapes, "journey_consumer_delivered_total", **consumer) >= 2  # the persona and the garbage
    assert moved(scrapes, "journey_consumer_acked_total", **consumer) >= 1
    assert moved(scrapes, "journey_consumer_handling_seconds_count", **consumer) >= 2
    # Read from the database and JetStream at the scrape.
    assert ("journey_outbox_backlog", frozenset({("service", "profiler")})) in scrapes.after
    assert ("journey_consumer_pending_messages", frozenset(consumer.items())) in scrapes.after


async def test_the_dead_letter_and_the_fallback_provoked_are_counted(scrapes: Scrapes) -> None:
    assert moved(scrapes, "journey_consumer_dead_lettered_total", service="profiler", consumer=WRITER) >= 1
    ai = {"task": "metrics_probe", "provider": "openai"}
    assert moved(scrapes, "journey_ai_calls_total", outcome="fallback", **ai) == 1
    assert moved(scrapes, "journey_ai_calls_total", outcome="retried", **ai) == 1  # 2 attempts: 1 retry
    assert moved(scrapes, "journey_ai_calls_total", outcome="ok", **ai) == 0


def _names(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:journey|traefik)_[a-z0-9_]+)\b", expr))


def _exported(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


async def test_every_metric_an_alert_names_is_exported(scrapes: Scrapes) -> None:
    rules = _rules()
    assert {"JourneyOutboxStuck", "JourneyDeadLetter", "JourneyConsumerFallingBehind"} <= {r["alert"] for r in rules}
    exported = _exported(scrapes.after)
    for rule in rules:
        names = _names(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, f"{rule['alert']} names {sorted(names - exported)}, not in /metrics"


def test_every_alert_has_a_runbook_in_operations_md() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    for rule in _rules():
        assert f"### {rule['alert']}" in operations
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"


async def test_every_journey_metric_the_grafana_dashboard_plots_is_registered(scrapes: Scrapes) -> None:
    # Billing's and the dashboard's own metrics register when their services are imported.
    import billing.metrics
    import dashboard.metrics

    assert billing.metrics
    assert dashboard.metrics
    registered = {
        sample_name
        for family in REGISTRY.collect()
        for sample_name in (family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count")
    }
    panels = json.loads((OBSERVABILITY / "grafana-journey.json").read_text())["panels"]
    exprs = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    named = {name for expr in exprs for name in _names(expr) if name.startswith("journey_")}
    assert len(named) > 20
    assert named <= registered, sorted(named - registered)
    # What this process exported after the journey is all on the dashboard too.
    plotted = {_base(name) for name in named}
    unplotted = {_base(name) for name in _exported(scrapes.after) if name.startswith("journey_")} - plotted
    assert not unplotted, sorted(unplotted)


def _base(name: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", name)
