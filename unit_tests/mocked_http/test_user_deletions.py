"""user_deletions through the real entry point, HTTP mocked: the recorded job shape, the empty list labelled
text/html, ranges of at most six months, the EU host, a plan that refuses the API (skipped with a WARN) and a key pair
that is wrong (one config_error)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import (
    EU_BASE,
    NOW,
    amplitude_error,
    config,
    failure_types,
    json_response,
    request,
    run,
    stream_error_messages,
)

# NOW is 2026-09-24; start_date 2026-09-20; jobs are listed up to 31 days ahead
FIRST_RANGE = {"start_day": "2026-09-20", "end_day": "2026-10-25"}
NOW_PLUS_A_WEEK = NOW + timedelta(days=7)


def deletions(query: dict[str, Any], base: str = "https://amplitude.com/api") -> Any:
    return request("2/deletions/users", query, base)


def test_the_recorded_job_gives_one_record_per_id_with_the_job_fields() -> None:
    job = recorded("deletions_create.json")["body"]
    with HttpMocker() as http:
        http.get(deletions(FIRST_RANGE), json_response(job))
        output = run("user_deletions", SyncMode.incremental)
    assert [r.record.data for r in output.records] == [
        {
            "app": "829528",
            "day": "2026-06-28",
            "amplitude_id": 1610447902357,
            "status": "staging",
            "requested_on_day": "2026-06-16",
            "requester": "rest",
            "removed_from_job": False,
            "observed_at": "2026-09-24T15:30:00+00:00",
        }
    ]  # the CDK's serializer leaves out top-level nulls (active_scrub_done_date, user_id)
    state = output.most_recent_state.stream_state.__dict__
    assert state["synced_on"] == "2026-09-24"
    assert state["open_jobs"][0]["ids"][0]["amplitude_id"] == 1610447902357


def test_an_empty_list_labelled_text_html_is_no_jobs_not_an_error() -> None:
    empty = recorded("deletions_list_empty.json")
    with HttpMocker() as http:
        http.get(deletions(FIRST_RANGE), HttpResponse("[]", 200, {"content-type": empty["headers"]["content-type"]}))
        output = run("user_deletions", SyncMode.incremental)
    assert output.records == [] and output.errors == []
    assert output.most_recent_state.stream_state.__dict__["synced_on"] == "2026-09-24"


def test_the_first_sync_backfills_in_ranges_of_at_most_six_months() -> None:
    ranges = [
        ("2025-09-01", "2026-02-27"),
        ("2026-02-28", "2026-08-26"),
        ("2026-08-27", "2026-10-25"),
    ]
    with HttpMocker() as http:
        for first, last in ranges:
            http.get(deletions({"start_day": first, "end_day": last}), json_response([]))
        output = run("user_deletions", SyncMode.incremental, cfg=config(start_date="2025-09-01T00:00:00Z"))
    assert output.errors == []


def test_an_incremental_sync_rereads_from_the_oldest_job_in_flight() -> None:
    state = {
        "state_version": 1,
        "synced_on": "2026-09-23",
        "open_jobs": [{"app": "829528", "day": "2026-09-01", "status": "submitted", "ids": [{"amplitude_id": 1}]}],
    }
    with HttpMocker() as http:
        http.get(deletions({"start_day": "2026-09-01", "end_day": "2026-10-25"}), json_response([]))
        output = run("user_deletions", SyncMode.incremental, stream_state=state)
    removed = [r.record.data for r in output.records]
    assert removed == [
        {
            "app": "829528",
            "day": "2026-09-01",
            "amplitude_id": 1,
            "status": "submitted",
            "removed_from_job": True,
            "observed_at": "2026-09-24T15:30:00+00:00",
        }
    ]
    assert output.most_recent_state.stream_state.__dict__["open_jobs"] == []


def test_the_eu_region_asks_the_eu_host() -> None:
    with HttpMocker() as http:
        http.get(deletions(FIRST_RANGE, EU_BASE), json_response([]))
        output = run("user_deletions", SyncMode.incremental, cfg=config(data_region="EU Residency Server"))
    assert output.errors == []


def test_a_plan_without_the_privacy_api_skips_the_stream_with_a_warning() -> None:
    with HttpMocker() as http:
        http.get(deletions(FIRST_RANGE), amplitude_error(403, "Forbidden", "Permission denied for this project"))
        output = run("user_deletions", SyncMode.incremental)
    assert output.errors == [] and output.records == []
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any(
        "skipped, Amplitude refused the User Privacy API (HTTP 403)" in w and "Permission" in w for w in warnings
    )


def test_a_wrong_key_pair_is_a_config_error_not_a_skip() -> None:
    with HttpMocker() as http:
        http.get(deletions(FIRST_RANGE), amplitude_error(403, "", "Invalid API/Secret Key combination"))
        output = run("user_deletions", SyncMode.incremental, expect_failure=True)
    assert FailureType.config_error in failure_types(output)
    assert any("refused the API Key / Secret Key pair" in m for m in stream_error_messages(output))


def test_a_state_it_cannot_use_says_so() -> None:
    output = run("user_deletions", SyncMode.incremental, stream_state={"synced_on": "yesterday"}, expect_failure=True)
    assert FailureType.config_error in failure_types(output)


def test_a_refused_range_is_not_marked_listed_and_is_read_once_access_is_granted() -> None:
    """A plan or key without the User Privacy API, then access granted: every job since start_date arrives."""
    with HttpMocker() as http:
        http.get(deletions(FIRST_RANGE), amplitude_error(403, "Forbidden", "Permission denied for this project"))
        refused = run("user_deletions", SyncMode.incremental)
    refused_state = refused.most_recent_state.stream_state.__dict__ if refused.state_messages else {}
    assert refused_state.get("synced_on") is None, refused_state
    job = recorded("deletions_create.json")["body"]
    later = NOW_PLUS_A_WEEK
    with HttpMocker() as http:  # a week later, from start_date again, not from a week before the refused sync
        http.get(deletions({"start_day": "2026-09-20", "end_day": "2026-11-01"}), json_response(job))
        granted = run("user_deletions", SyncMode.incremental, stream_state=refused_state, now=later)
    assert [r.record.data["amplitude_id"] for r in granted.records] == [1610447902357]
    assert granted.most_recent_state.stream_state.__dict__["synced_on"] == "2026-10-01"


def test_every_incremental_stream_that_can_skip_an_answer_has_a_refused_then_granted_test() -> None:
    """A policy skip means "no records here". For an incremental stream that is only safe where the skip is not a
    refusal (the export's 404: no data yet, pending hours) or where the stream keeps its cursor (user_deletions,
    above). A new incremental stream with a skip must join this list with a test like the one above."""
    from source_amplitude import SourceAmplitude
    from source_amplitude.http import AmplitudeStream

    tested = {"user_deletions": {401, 403, 404}, "events": {404}}
    for stream in SourceAmplitude(now=NOW).streams(config()):
        if not isinstance(stream, AmplitudeStream) or not stream.supports_incremental:
            continue
        skips = {status for status, outcome in stream.error_policy().statuses.items() if outcome.skips}
        assert skips <= tested.get(stream.name, set()), (stream.name, skips)
