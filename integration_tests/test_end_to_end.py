"""The console script against the fake Amplitude over real HTTP: spec, check, discover, read, incremental syncs."""

from __future__ import annotations

import json
import socket
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import ExpectedOutcome, read

from fake_amplitude import FakeAmplitude, Fault
from fake_amplitude.catalog import ANNOTATION_LABELS
from source_amplitude import SourceAmplitude
from test_support.connector_process import configured_catalog, events_catalog, run_connector
from test_support.fixtures import config_for, small_dataset

ALL_STREAMS = {
    "events",
    "annotations",
    "cohorts",
    "events_list",
    "active_users",
    "average_session_length",
    "event_types",
    "event_properties",
    "user_properties",
    "event_categories",
    "user_deletions",
    "events_ledger",
}


def test_spec_declares_the_official_fields_with_secrets_marked(tmp_path: Path) -> None:
    run = run_connector(["spec"], tmp_path, None)
    assert run.exit_code == 0
    spec = run.of_type("SPEC")[0]["spec"]["connectionSpecification"]
    assert {
        "api_key",
        "secret_key",
        "start_date",
        "data_region",
        "request_time_range",
        "active_users_group_by_country",
        "chart_ids",
    } <= set(spec["properties"])
    assert spec["properties"]["api_key"]["airbyte_secret"] and spec["properties"]["secret_key"]["airbyte_secret"]
    assert spec["required"] == ["api_key", "secret_key"]


def test_check_succeeds_with_good_keys(fake: FakeAmplitude, tmp_path: Path) -> None:
    run = run_connector(["check"], tmp_path, fake.url, config=config_for(fake))
    assert run.exit_code == 0
    assert run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"


def test_check_with_bad_keys_fails_naming_both_keys_and_leaks_nothing(fake: FakeAmplitude, tmp_path: Path) -> None:
    config = {**config_for(fake), "secret_key": "wrong-secret-1234567"}
    run = run_connector(["check"], tmp_path, fake.url, config=config)
    status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "refused the API Key / Secret Key pair in both data centers" in status["message"]
    assert "wrong-secret-1234567" not in run.stdout + run.stderr
    assert "Traceback" not in status["message"]


def test_check_with_wrong_region_says_which_region_to_set(tmp_path: Path) -> None:
    dataset = small_dataset()
    with FakeAmplitude(dataset) as eu_project, FakeAmplitude(dataset, api_key="other", secret_key="other") as us:
        run = run_connector(
            ["check"],
            tmp_path,
            us.url,
            config=config_for(eu_project),
            extra_env={"AMPLITUDE_EU_BASE_URL": eu_project.url},
        )
    status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert status["message"] == "This project is in the EU data center: set data_region to 'EU Residency Server'."


def test_check_with_invalid_config_names_the_field(fake: FakeAmplitude, tmp_path: Path) -> None:
    run = run_connector(["check"], tmp_path, fake.url, config=config_for(fake, request_time_range=0))
    status = run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "'request_time_range' is 0" in status["message"]


def test_discover_lists_every_stream_with_keys_and_cursors(fake: FakeAmplitude, tmp_path: Path) -> None:
    run = run_connector(["discover"], tmp_path, fake.url, config=config_for(fake))
    streams = {s["name"]: s for s in run.of_type("CATALOG")[0]["catalog"]["streams"]}
    assert set(streams) == ALL_STREAMS  # no chart_ids configured: no chart streams
    assert streams["active_users"]["default_cursor_field"] == ["date"]
    assert streams["active_users"]["source_defined_primary_key"] == [["date"]]
    assert streams["cohorts"]["supported_sync_modes"] == ["full_refresh"]
    assert streams["events_ledger"]["source_defined_primary_key"] == [["stream"], ["upload_hour"], ["part"]]
    assert streams["events_ledger"]["default_cursor_field"] == ["read_at"]


def discover_catalog(fake: FakeAmplitude, tmp_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    run = run_connector(["discover"], tmp_path, fake.url, config=config)
    return configured_catalog(run.of_type("CATALOG")[0]["catalog"])


def test_read_all_streams_matches_the_fake_data_and_schemas(fake: FakeAmplitude, tmp_path: Path) -> None:
    config = config_for(fake)
    catalog = discover_catalog(fake, tmp_path, config)
    run = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog)
    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.errors() == []
    counts = Counter(m["record"]["stream"] for m in run.of_type("RECORD"))
    assert counts["annotations"] == len(ANNOTATION_LABELS)
    assert counts["cohorts"] == 3
    assert counts["events_list"] == 6
    assert (counts["event_types"], counts["event_categories"], counts["user_properties"]) == (6, 2, 4)
    assert counts["event_properties"] == 3
    stats = fake.state.dataset.daily_stats()
    today = datetime.now(UTC).date()
    first = fake.state.dataset.first_hour.date()
    expected_days = (today - first).days + 1
    assert counts["active_users"] == expected_days == counts["average_session_length"]
    for record in run.records("active_users"):
        day = date.fromisoformat(record["date"])
        expected = stats.active_users.get(day, {})
        # on a day without events yet (just after midnight UTC) the fake lists every country with 0
        assert {c: n for c, n in record["statistics"].items() if n} == {c: n for c, n in expected.items() if n}, day
    schemas = {entry["stream"]["name"]: entry["stream"]["json_schema"] for entry in catalog["streams"]}
    for message in run.of_type("RECORD"):
        jsonschema.validate(message["record"]["data"], schemas[message["record"]["stream"]])
    statuses = [
        m["trace"]["stream_status"]["status"] for m in run.of_type("TRACE") if m["trace"]["type"] == "STREAM_STATUS"
    ]
    assert statuses.count("COMPLETE") == len(catalog["streams"])


def test_state_messages_count_the_records_they_follow(fake: FakeAmplitude, tmp_path: Path) -> None:
    config = config_for(fake)
    run = run_connector(["read"], tmp_path, fake.url, config=config, catalog=discover_catalog(fake, tmp_path, config))
    since_last_state: Counter[str] = Counter()
    for message in run.messages:
        if message["type"] == "RECORD":
            since_last_state[message["record"]["stream"]] += 1
        elif message["type"] == "STATE":
            stream = message["state"]["stream"]["stream_descriptor"]["name"]
            assert message["state"]["sourceStats"]["recordCount"] == since_last_state.pop(stream, 0)


def test_two_incremental_syncs_carry_state_and_reread_only_the_lookback(fake: FakeAmplitude, tmp_path: Path) -> None:
    config = {**config_for(fake), "start_date": "2026-01-01"}
    catalog = discover_catalog(fake, tmp_path, config)
    first = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog)
    today = datetime.now(UTC).date().isoformat()
    assert first.stream_states()["active_users"] == {"date": today}
    first_users_requests = len(fake.requests_to("/api/2/users"))
    assert first_users_requests >= 10  # Jan 1 to today in 30-day slices

    state = first.state_to_resume()
    second = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog, state=state)
    assert second.exit_code == 0
    assert len(fake.requests_to("/api/2/users")) == first_users_requests + 1  # only the lookback slice
    assert second.stream_states()["active_users"] == {"date": today}
    assert {r["date"] for r in second.records("active_users")} <= {r["date"] for r in first.records("active_users")}
    assert len(second.records("active_users")) <= 4


def test_rate_limit_then_success_with_retry_after(fake: FakeAmplitude, tmp_path: Path) -> None:
    fake.add_fault(Fault(path="/api/3/cohorts", status=429, times=1, retry_after="0"))
    fake.add_fault(Fault(path="/api/2/events/list", status=503, times=1))
    config = config_for(fake)
    catalog = discover_catalog(fake, tmp_path, config)
    run = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog)
    assert run.exit_code == 0
    assert len(run.records("cohorts")) == 3 and len(run.records("events_list")) == 6


def test_forbidden_mid_sync_fails_with_config_error_and_non_zero_exit(fake: FakeAmplitude, tmp_path: Path) -> None:
    fake.add_fault(Fault(path="/api/2/users", status=403, times=100))
    config = config_for(fake)
    run = run_connector(["read"], tmp_path, fake.url, config=config, catalog=discover_catalog(fake, tmp_path, config))
    assert run.exit_code != 0
    stream_errors = [e for e in run.errors() if e.get("stream_descriptor")]
    assert stream_errors[0]["failure_type"] == "config_error"
    assert "data_region" in stream_errors[0]["message"]
    assert "active_users" not in run.stream_states()


@pytest.mark.parametrize("v3_served", [True, False])
def test_annotations_come_from_v3_or_fall_back_to_v2(tmp_path: Path, v3_served: bool) -> None:
    with FakeAmplitude(small_dataset(), serve_annotations_v3=v3_served) as server:
        config = config_for(server)
        catalog = discover_catalog(server, tmp_path, config)
        catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] == "annotations"]
        run = run_connector(["read"], tmp_path, server.url, config=config, catalog=catalog)
    records = run.records("annotations")
    assert [r["label"] for r in records] == list(ANNOTATION_LABELS)
    assert all(r["date"] for r in records)
    assert ("category" in records[0]) is v3_served


def test_without_taxonomy_access_check_says_so_and_read_skips_those_streams(tmp_path: Path) -> None:
    with FakeAmplitude(small_dataset(), taxonomy_enabled=False) as server:
        config = config_for(server)
        check = run_connector(["check"], tmp_path, server.url, config=config)
        catalog = discover_catalog(server, tmp_path, config)
        catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] in ("event_types", "cohorts")]
        run = run_connector(["read"], tmp_path, server.url, config=config, catalog=catalog)
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "SUCCEEDED"
    assert "Taxonomy is not enabled for this project." in status["message"] and "event_types" in status["message"]
    assert run.exit_code == 0 and run.errors() == []
    assert run.records("event_types") == [] and len(run.records("cohorts")) == 3
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert any(w.startswith("event_types: skipped") for w in warnings)


def test_charts_discover_read_and_a_missing_chart_fails_only_its_stream(fake: FakeAmplitude, tmp_path: Path) -> None:
    config = config_for(fake, chart_ids=["act1vusr", "grp2plat", "fun3step", "missing1"])
    check = run_connector(["check"], tmp_path, fake.url, config=config)
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "'missing1'" in status["message"]
    catalog = discover_catalog(fake, tmp_path, config)
    names = {s["stream"]["name"] for s in catalog["streams"]}
    assert {"charts_metadata", "chart_act1vusr", "chart_grp2plat", "chart_fun3step", "chart_missing1"} <= names
    catalog["streams"] = [s for s in catalog["streams"] if "chart" in s["stream"]["name"]]
    run = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog)
    assert run.exit_code != 0
    failed = [e["stream_descriptor"]["name"] for e in run.errors() if e.get("stream_descriptor")]
    assert failed == ["chart_missing1"]
    assert len(run.records("chart_grp2plat")) == 8 and len(run.records("chart_fun3step")) == 3
    assert len(run.records("chart_act1vusr")) == len(fake.state.dataset.daily_stats().all_active_users)
    assert [m["chart_id"] for m in run.records("charts_metadata")] == ["act1vusr", "grp2plat", "fun3step"]
    schemas = {entry["stream"]["name"]: entry["stream"]["json_schema"] for entry in catalog["streams"]}
    for message in run.of_type("RECORD"):
        jsonschema.validate(message["record"]["data"], schemas[message["record"]["stream"]])


def test_no_chart_ids_means_no_chart_streams(fake: FakeAmplitude, tmp_path: Path) -> None:
    run = run_connector(["discover"], tmp_path, fake.url, config=config_for(fake))
    assert not [s for s in run.of_type("CATALOG")[0]["catalog"]["streams"] if "chart" in s["name"]]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [('{"api_key": "x", ', "is not valid JSON"), ("[1, 2]", "holds list JSON, not an object")],
)
def test_a_config_file_that_is_not_a_json_object_is_a_one_line_config_error_naming_the_file(
    tmp_path: Path, content: str, fragment: str
) -> None:
    (tmp_path / "broken.json").write_text(content)
    run = run_connector(["check", "--config", str(tmp_path / "broken.json")], tmp_path, None)
    (error,) = run.errors()
    assert error["failure_type"] == "config_error"
    assert f"The config file {tmp_path / 'broken.json'} " in error["message"] and fragment in error["message"]
    assert "\n" not in error["message"] and "Something went wrong" not in error["message"]


def test_the_example_config_and_catalog_work_against_the_fake(shared_fake: FakeAmplitude, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    config = json.loads((examples / "config.json").read_text())
    catalog = json.loads((examples / "catalog.json").read_text())
    assert config["api_key"] == shared_fake.state.api_key and config["secret_key"] == shared_fake.state.secret_key
    run = run_connector(["read"], tmp_path, shared_fake.url, config=config, catalog=catalog)
    assert run.exit_code == 0 and not run.errors()
    streams = {m["record"]["stream"] for m in run.of_type("RECORD")}
    assert streams == {s["stream"]["name"] for s in catalog["streams"]}


def test_the_read_log_counts_event_records_not_batches(shared_fake: FakeAmplitude, tmp_path: Path) -> None:
    run = run_connector(["read"], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=events_catalog())
    records = len(run.records("events"))
    assert records > 1000  # more than one batch of the fast path
    logs = [m["log"]["message"] for m in run.of_type("LOG")]
    assert f"Read {records} records from events stream" in logs


def test_a_wrong_key_pair_during_read_is_one_config_error_in_our_words(fake: FakeAmplitude, tmp_path: Path) -> None:
    """Every stream would fail alike: the first refusal stops the sync and is said once (not once per stream plus the
    CDK's summary, not the CDK's "'GET' request ... failed with status code '403'")."""
    config = config_for(fake)
    catalog = discover_catalog(fake, tmp_path, config)
    run = run_connector(["read"], tmp_path, fake.url, config={**config, "secret_key": "wrong"}, catalog=catalog)
    assert run.exit_code != 0
    errors = run.errors()
    assert len(errors) == 1, errors
    assert errors[0]["failure_type"] == "config_error"
    assert errors[0]["message"].startswith("Amplitude refused the API Key / Secret Key pair (HTTP 403)")
    traces = [json.dumps(m) for m in run.of_type("TRACE")]
    assert sum("Traceback" in trace for trace in traces) <= 1  # the error trace's stack_trace field
    logs = [m["log"]["message"] for m in run.of_type("LOG")]
    # Neither the CDK's "'GET' request ... failed with status code '403'" line, nor a stream's traceback, nor the
    # FATAL line of the uncaught exception: the one error trace says it.
    assert not [line for line in logs if "failed with status code" in line or "Traceback" in line], logs
    assert not [line for line in logs if "Invalid API/Secret Key" in line or "refused the API Key" in line], logs
    assert "Traceback" not in run.stderr
    started = [
        m["trace"]["stream_status"]["stream_descriptor"]["name"]
        for m in run.of_type("TRACE")
        if m["trace"]["type"] == "STREAM_STATUS" and m["trace"]["stream_status"]["status"] == "STARTED"
    ]
    assert len(started) == 1  # the sync stopped at the first refusal


def test_a_month_without_data_before_the_first_event_is_one_log_line(
    shared_fake: FakeAmplitude, tmp_path: Path
) -> None:
    """No start_date: the default 30 days reach back before the fake's first upload hour, where Amplitude answers 404.
    That is said once for the whole run of empty windows, not once per export request."""
    config = {**shared_fake.config, "request_time_range": 24}
    run = run_connector(["read"], tmp_path, shared_fake.url, config=config, catalog=events_catalog())
    assert run.exit_code == 0 and not run.errors()
    logs = [m["log"]["message"] for m in run.of_type("LOG")]
    assert not [line for line in logs if line.startswith("Ignoring response")], logs
    no_data = [line for line in logs if "no events in upload hours" in line]
    assert len(no_data) == 1, logs
    assert "Amplitude answered 404 to" in no_data[0]
    with_start_date = run_connector(
        ["read"], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=events_catalog()
    )
    assert sorted(r["uuid"] for r in run.records("events")) == sorted(
        r["uuid"] for r in with_start_date.records("events")
    )


def test_an_unreachable_host_fails_the_sync_once_at_the_first_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection at all (refused here; DNS, TLS, a proxy alike) is the same for every stream: the sync stops at
    the first one, with one message naming the host and what to check, and no retry line calls it a rate limit."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AMPLITUDE_BASE_URL", f"http://127.0.0.1:{port}")
    config = {"api_key": "k" * 32, "secret_key": "s" * 32, "start_date": "2026-11-01T00:00:00Z"}
    catalog = CatalogBuilder()
    for stream in ("events", "annotations", "cohorts", "active_users"):
        catalog = catalog.with_stream(stream, SyncMode.full_refresh)
    output = read(SourceAmplitude(), config, catalog.build(), expected_outcome=ExpectedOutcome.EXPECT_EXCEPTION)
    errors = [e.trace.error for e in output.errors]
    assert len(errors) == 1, [e.message for e in errors]
    assert errors[0].message.startswith(f"Could not reach Amplitude at 127.0.0.1:{port} (ConnectionError: connection")
    assert "proxy (HTTPS_PROXY" in errors[0].message
    logs = [m.log.message for m in output.logs]
    assert not any("Rate limit" in line or "Traceback" in line for line in logs), logs
    assert any(line.startswith("Retrying in ") and "connection refused" in line for line in logs)
    started = [m.trace.stream_status.stream_descriptor.name for m in output.trace_messages if m.trace.stream_status]
    assert set(started) == {"events"}
