"""Amplitude endpoints and the constants every stream shares. No logic lives here."""

from __future__ import annotations

from enum import Enum


class DataRegion(str, Enum):
    STANDARD = "Standard Server"
    EU = "EU Residency Server"


# docs/amplitude-api-notes.md: REST calls go to amplitude.com, never analytics.amplitude.com (the browser UI).
REGION_BASE_URLS: dict[DataRegion, str] = {
    DataRegion.STANDARD: "https://amplitude.com",
    DataRegion.EU: "https://analytics.eu.amplitude.com",
}

# Tests, demos and proxies redirect every request with these; no config field can (that would be SSRF in Airbyte Cloud).
BASE_URL_ENV = "AMPLITUDE_BASE_URL"
EU_BASE_URL_ENV = "AMPLITUDE_EU_BASE_URL"

DEFAULT_START_DAYS_AGO = 30
DEFAULT_REQUEST_TIME_RANGE_HOURS = 24
# Export requests in flight at once (the window being read counts as one). Amplitude allows 5 concurrent REST
# requests per project across all clients (docs/amplitude-api-notes.md): 4 leaves room for everyone else.
DEFAULT_EXPORT_CONCURRENCY = 2
MAX_EXPORT_CONCURRENCY = 4
MAX_REQUEST_TIME_RANGE_HOURS = 8760  # the Export API refuses ranges over 365 days

# Dashboard numbers for a day keep changing until that day is over in the project's time zone (which the API does
# not tell us, and which can be up to 14 h ahead of UTC). Every incremental sync re-reads this many days before the
# saved date, so yesterday's and today's partial figures get corrected downstream by the `date` primary key.
DASHBOARD_LOOKBACK_DAYS = 3
DASHBOARD_MAX_SLICE_DAYS = 30

# docs/amplitude-api-notes.md: per project, 108,000 cost units per hour; cost = days x conditions x query-type cost.
DASHBOARD_COST_PER_HOUR = 108_000
# Upper bounds for one request of DASHBOARD_MAX_SLICE_DAYS days: /users with a group-by counts 1 segment + 4 for the
# group-by; /sessions/average is "User Sessions" (4); other endpoints cost 1 per request.
ACTIVE_USERS_GROUPED_COST = DASHBOARD_MAX_SLICE_DAYS * 5
ACTIVE_USERS_COST = DASHBOARD_MAX_SLICE_DAYS
AVERAGE_SESSION_LENGTH_COST = DASHBOARD_MAX_SLICE_DAYS * 4
# A saved chart costs what its query costs, which the API does not say (docs/amplitude-api-notes.md): assume a 30-day
# segmentation with one group-by (30 days x (1 + 4) x 2 events).
CHART_QUERY_COST = 300

# The User Privacy API (user_deletions) allows 1 request per second per project; a little over, for clock skew.
DELETIONS_SECONDS_PER_REQUEST = 1.1

# HTTP retry policy shared by every stream.
MAX_RETRIES = 5
MAX_RETRY_SECONDS = 600
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 60.0  # our own exponential backoff; a Retry-After from Amplitude is honoured as sent, up to:
MAX_RETRY_AFTER_SECONDS = 600  # past this a sync fails (transient_error) rather than sleep for hours
REQUEST_TIMEOUT_SECONDS = 300
