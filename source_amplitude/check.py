"""`check`: tell the user exactly what is wrong with the connection, including the other data region's verdict.
Every probe's answer is read through the same policy as the stream it stands for (errors.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Optional
from urllib.parse import urlsplit

import requests
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_amplitude.bucket.check import check_bucket
from source_amplitude.bucket.store import ObjectStore
from source_amplitude.config import AmplitudeConfig, BucketSource, resolve_base_url
from source_amplitude.errors import (
    DEFAULT_POLICY,
    FAIL_AUTH,
    UNREACHABLE_ADVICE,
    UNREACHABLE_MESSAGE_START,
    Outcome,
    Policy,
    network_detail,
)
from source_amplitude.http import basic_auth
from source_amplitude.settings import DataRegion
from source_amplitude.streams.charts import chart_csv_path, chart_policy
from source_amplitude.streams.taxonomy import NO_ACCESS_POLICY
from source_amplitude.streams.user_deletions import PRIVACY_POLICY

NOTES = " Notes: "
PROBE_PATH = "/api/2/events/list"  # a Dashboard REST endpoint of cost 1: proves the keys and the dashboard permission
PROBE_TIMEOUT_SECONDS = 60
TAXONOMY_PROBE_PATH = "/api/2/taxonomy/category"
DELETIONS_PROBE_PATH = "/api/2/deletions/users"
CHECK_TRANSIENT_MESSAGE = (
    "check made one request to {base_url} and Amplitude answered HTTP {status} (429: its rate limit for the project; "
    "5xx: a fault on its side). A sync retries this with backoff; check does not. Run check again in a minute."
)


def probe(
    config: AmplitudeConfig, path: str, policy: Policy, base_url: Optional[str] = None
) -> tuple[Outcome, requests.Response]:
    url = f"{base_url or config.base_url}{path}"
    response = requests.get(url, auth=basic_auth(config), timeout=PROBE_TIMEOUT_SECONDS)
    return policy.outcome(response), response


def unreadable_charts(config: AmplitudeConfig) -> list[str]:
    problems = []
    for chart_id in config.chart_ids:
        try:
            outcome, response = probe(config, f"/api/{chart_csv_path(chart_id)}", chart_policy(chart_id))
        except requests.RequestException as error:
            problems.append(f"'{chart_id}' could not be reached ({type(error).__name__})")
            continue
        if outcome.action is not ResponseAction.SUCCESS:
            problems.append(outcome.text(response))
    return problems


def refusal(config: AmplitudeConfig, path: str, policy: Policy) -> tuple[Optional[str], bool]:
    """An API a plan may not include: (the stream policy's skip text if Amplitude refuses it, whether it answered)."""
    try:
        outcome, response = probe(config, path, policy)
    except requests.RequestException:
        return None, False
    return (outcome.text(response) if outcome.skips else None), outcome.action is ResponseAction.SUCCESS


def taxonomy_note(config: AmplitudeConfig) -> str:
    """The taxonomy API needs a plan that includes it; without it its four streams are skipped, which `check` says."""
    refused, _ = refusal(config, TAXONOMY_PROBE_PATH, NO_ACCESS_POLICY)
    if refused is None:
        return ""
    return f"The streams event_types, event_properties, user_properties and event_categories will be {refused}."


def deletions_note(config: AmplitudeConfig) -> str:
    """Whether the key pair may read deletion jobs (user_deletions): a plan or role without the User Privacy API skips
    that stream, which `check` says; a project that may read them is told so too (an empty range is one cheap call)."""
    today = datetime.now(UTC).date().isoformat()
    path = f"{DELETIONS_PROBE_PATH}?start_day={today}&end_day={today}"
    refused, answered = refusal(config, path, PRIVACY_POLICY)
    if refused is not None:
        return f"The stream user_deletions will be {refused}."
    return "The key pair may read deletion jobs (user_deletions)." if answered else ""


def check_connection(
    config: AmplitudeConfig, environ: Mapping[str, str], store: Optional[ObjectStore] = None
) -> tuple[bool, str]:
    """The API keys (every mode), then the bucket when events come from one. The message says the verdict first:
    what failed, or what was verified; notes (streams that will be skipped) come after it."""
    ok, message = check_credentials(config, environ)
    if not ok or store is None or not isinstance(config.events_source, BucketSource):
        return ok, message
    bucket_ok, bucket_message = check_bucket(config.events_source, store)
    if not bucket_ok:
        return False, bucket_message  # the keys' notes would only bury what to fix
    verified, _, notes = message.partition(NOTES)
    bucket = f"the bucket {config.events_source.location()} (its export files are listed and readable)"
    said = f"{verified.rstrip('.')}, and {bucket}."
    extra = " ".join(part for part in (bucket_message, notes.strip()) if part)
    return True, f"{said}{NOTES}{extra}" if extra else said


def check_credentials(config: AmplitudeConfig, environ: Mapping[str, str]) -> tuple[bool, str]:
    try:
        outcome, response = probe(config, PROBE_PATH, DEFAULT_POLICY)
    except requests.RequestException as error:
        host = urlsplit(config.base_url).netloc
        said = f"{UNREACHABLE_MESSAGE_START}{host} ({network_detail(error)}). {UNREACHABLE_ADVICE.format(host=host)}"
        return False, said
    if outcome.action is ResponseAction.SUCCESS:
        missing = unreadable_charts(config)
        if missing:
            return False, " ".join(missing)
        charts = f", and the saved chart(s) {', '.join(config.chart_ids)}" if config.chart_ids else ""
        center = "EU" if config.data_region is DataRegion.EU else "US (standard)"
        verified = f"Verified: Amplitude accepts the API key pair ({center} data center){charts}."
        notes = " ".join(note for note in (taxonomy_note(config), deletions_note(config)) if note)
        return True, f"{verified}{NOTES}{notes}" if notes else verified
    if outcome.action is ResponseAction.RETRY:  # the streams retry this with backoff; check asks once
        return False, CHECK_TRANSIENT_MESSAGE.format(status=response.status_code, base_url=config.base_url)
    if outcome is not FAIL_AUTH:
        return False, outcome.text(response)
    other = DataRegion.EU if config.data_region is DataRegion.STANDARD else DataRegion.STANDARD
    try:
        other_outcome, _ = probe(config, PROBE_PATH, DEFAULT_POLICY, resolve_base_url(other, environ))
    except requests.RequestException:
        other_outcome = FAIL_AUTH
    if other_outcome.action is ResponseAction.SUCCESS:
        center = "EU" if other is DataRegion.EU else "US (standard)"
        return False, f"This project is in the {center} data center: set data_region to '{other.value}'."
    return False, (
        f"Amplitude refused the API Key / Secret Key pair in both data centers (HTTP {response.status_code}). "
        "Copy api_key and secret_key again from the same project: Settings > Organization settings > Projects."
    )
