"""`check`: tell the user exactly what is wrong with the connection, including the other data region's verdict."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from source_amplitude.config import AmplitudeConfig, resolve_base_url
from source_amplitude.errors import amplitude_error_detail
from source_amplitude.http import basic_auth
from source_amplitude.settings import DataRegion

PROBE_PATH = "/api/2/events/list"  # a Dashboard REST endpoint of cost 1: proves the keys and the dashboard permission
PROBE_TIMEOUT_SECONDS = 60
TAXONOMY_PROBE_PATH = "/api/2/taxonomy/category"
REFUSED = (401, 403)


def get(config: AmplitudeConfig, path: str, base_url: str | None = None) -> requests.Response:
    return requests.get(f"{base_url or config.base_url}{path}", auth=basic_auth(config), timeout=PROBE_TIMEOUT_SECONDS)


def unreadable_charts(config: AmplitudeConfig) -> list[str]:
    problems = []
    for chart_id in config.chart_ids:
        try:
            response = get(config, f"/api/3/chart/{chart_id}/csv")
        except requests.RequestException as error:
            problems.append(f"'{chart_id}' ({type(error).__name__})")
            continue
        if not response.ok:
            problems.append(f"'{chart_id}' (HTTP {response.status_code}: {amplitude_error_detail(response)})")
    return problems


def taxonomy_note(config: AmplitudeConfig) -> str:
    """The taxonomy API needs a plan that includes it; without it its four streams are skipped, which `check` says."""
    try:
        response = get(config, TAXONOMY_PROBE_PATH)
    except requests.RequestException:
        return ""
    if response.ok:
        return ""
    return (
        f"Connected. The taxonomy API refused this project (HTTP {response.status_code}: "
        f"{amplitude_error_detail(response)}): the streams event_types, event_properties, user_properties and "
        "event_categories will be skipped."
    )


def check_credentials(config: AmplitudeConfig, environ: Mapping[str, str]) -> tuple[bool, str]:
    try:
        response = get(config, PROBE_PATH)
    except requests.RequestException as error:
        return False, f"Could not reach Amplitude at {config.base_url} ({type(error).__name__}). Check the network."
    if response.ok:
        missing = unreadable_charts(config)
        if missing:
            return False, (
                f"These chart_ids cannot be read: {'; '.join(missing)}. Check each id (the code after /chart/ in "
                "the chart's URL) and that the chart belongs to this project."
            )
        return True, taxonomy_note(config)
    if response.status_code not in REFUSED:
        return False, (
            f"Amplitude answered HTTP {response.status_code} to a Dashboard REST request: "
            f"{amplitude_error_detail(response)}. If the keys are right, make sure the project's API access "
            "includes the Dashboard REST API, or retry later if this is a 429 or 5xx."
        )
    other = DataRegion.EU if config.data_region is DataRegion.STANDARD else DataRegion.STANDARD
    try:
        other_accepts = get(config, PROBE_PATH, resolve_base_url(other, environ)).ok
    except requests.RequestException:
        other_accepts = False
    if other_accepts:
        center = "EU" if other is DataRegion.EU else "US (standard)"
        return False, f"This project is in the {center} data center: set data_region to '{other.value}'."
    return False, (
        f"Amplitude refused the API Key / Secret Key pair in both data centers (HTTP {response.status_code}). "
        "Copy api_key and secret_key again from the same project: Settings > Organization settings > Projects."
    )
