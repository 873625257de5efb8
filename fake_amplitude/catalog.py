"""Catalog answers (events list, annotations, cohorts) derived from the dataset, in the recorded shapes:
unit_tests/resources/recorded/events_list.json, annotations_v3.json, cohorts.json."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fake_amplitude.dataset import EVENT_TYPES, Dataset

ANNOTATION_LABELS = ("Release 2.3", "Marketing campaign", "Outage", "Pricing change")


def events_list(dataset: Dataset) -> list[dict[str, Any]]:
    totals = dataset.daily_stats().totals_by_event_type
    return [
        {
            "autohidden": False,
            "id": 895_590_000 + i,
            "value": name,
            "display": name,
            "hidden": False,
            "deleted": False,
            "flow_hidden": False,
            "timeline_hidden": False,
            "non_active": False,
            "in_waitroom": False,
            "waitroom_approved": None,
            "name": name,
            "totals": totals.get(name, 0),
            "totals_delta": 0,
        }
        for i, name in enumerate(EVENT_TYPES)
    ]


def annotations_v3(dataset: Dataset) -> list[dict[str, Any]]:
    items = []
    for i, label in enumerate(ANNOTATION_LABELS):
        start = dataset.first_hour + timedelta(hours=7 * i)
        items.append(
            {
                "id": 939_879 + i,
                "start": start.strftime("%Y-%m-%dT%H:00:00+00:00"),
                "label": label,
                "details": f"Details of {label.lower()}" if i % 2 == 0 else None,
                "category": {"id": 1, "category": "Uncategorized"}
                if i % 2 == 0
                else {"id": 1250, "category": "Releases"},
                "end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:00:00+00:00") if i == 2 else None,
                "chart_id": "gl9dulhv" if i == 3 else None,
            }
        )
    return items


def annotations_v2(dataset: Dataset) -> list[dict[str, Any]]:
    return [
        {"id": item["id"], "date": item["start"][:10], "label": item["label"], "details": item["details"]}
        for item in annotations_v3(dataset)
    ]


def cohorts(dataset: Dataset) -> list[dict[str, Any]]:
    created = int((dataset.first_hour - timedelta(days=10)).timestamp())
    definition = {
        "version": 3,
        "countGroup": {"name": "User", "is_computed": False},
        "cohortType": "UNIQUES",
        "andClauses": [],
        "referenceFrameTimeParams": {},
    }
    result = []
    for i, (cohort_id, name, size) in enumerate(
        (
            ("9apg8e8f", "14 day user retention", 0),
            ("k2x7abcd", "Purchasers", 120),
            ("zz01uncm", "Never computed", None),
        )
    ):
        result.append(
            {
                "appId": dataset.app_id,
                "archived": False,
                "definition": definition,
                "description": None,
                "finished": size is not None,
                "id": cohort_id,
                "name": name,
                "published": True,
                "type": "redshift",
                "lastMod": created + i * 3600,
                "createdAt": created,
                "lastComputed": created + 7200 if size is not None else None,
                "hidden": False,
                "metadata": None,
                "view_count": None,
                "popularity": None,
                "last_viewed": None,
                "chart_id": None,
                "edit_id": None,
                "is_predictive": False,
                "is_official_content": False,
                "location_id": None,
                "shortcut_ids": [],
                "per_app_metadata": None,
                "cohort_definition_type": None,
                "cohort_output_type": "UNIQUES",
                "is_generated_content": False,
                "owners": ["amp"],
                "viewers": [],
                "size": size,
            }
        )
    return result


TAXONOMY_CATEGORIES = ({"id": 1934723, "name": "Engagement"}, {"id": 1934724, "name": "Revenue"})


def taxonomy_categories() -> list[dict[str, Any]]:
    return [dict(category) for category in TAXONOMY_CATEGORIES]


def taxonomy_event_types() -> list[dict[str, Any]]:
    return [
        {
            "event_type": name,
            "description": f"Sample event {name}",
            "display_name": None,
            "category": {"name": "Revenue"} if name == "purchase" else None,
            "deleted": None,
            "tags": [],
            "is_active": True,
            "owner": None,
            "is_hidden_from_dropdowns": False,
            "is_hidden_from_persona_results": False,
            "is_hidden_from_pathfinder": False,
            "is_hidden_from_timeline": False,
        }
        for name in EVENT_TYPES
    ]


def _property(name: str, event_type: str | None, kind: str) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "event_property": name,
        "description": "",
        "type": kind,
        "enum_values": None,
        "regex": None,
        "is_array_type": False,
        "is_required": False,
        "is_hidden": False,
        "classifications": [],
    }


def taxonomy_event_properties(dataset: Dataset) -> list[dict[str, Any]]:
    shared = [_property("source", None, "string"), _property("value", None, "number")]
    padding = [_property(f"attribute_{p:02d}", None, "string") for p in range(dataset.padding_properties)]
    return [*shared, *padding, _property("value", "purchase", "number")]


def taxonomy_user_properties() -> list[dict[str, Any]]:
    return [
        {
            "user_property": name,
            "description": "",
            "type": "any",
            "enum_values": None,
            "regex": None,
            "is_array_type": False,
            "is_hidden": False,
            "classifications": [],
            "deleted": False,
        }
        for name in ("gp:plan", "amplitude_id", "user_id", "session_id")
    ]


def csv_text(rows: list[list[str]]) -> str:
    """Amplitude's chart CSV: every cell quoted, text cells TAB-prefixed (callers pass them so), CRLF."""
    return "".join(
        ",".join('"' + cell.replace('"', '""') + '"' for cell in row) + "\r\n" if row else "\r\n" for row in rows
    )


# A group-by chart with two label columns, a forward-filled label, a percentage, a blank and a text cell; the parser's
# unit tests read the same rows (unit_tests/test_chart_parser.py).
GROUP_BY_CHART_ROWS = [
    ["\tPurchases by country and platform"],
    [],
    ["\tEvent Totals"],
    ["\tpurchase"],
    ["\tadd_to_cart"],
    [],
    ["\tCountry", "\tPlatform", "\t2026-06-01", "\t2026-06-02"],
    ["\tUnited States", "\tWeb", "1,234", "12.5%"],
    ["", "\tiOS", "88", ""],
    ["\tGermany", "\tWeb", "12", "15"],
    ['\tSão Paulo "BR"', "\tAndroid", "7", "n/a"],
]


def sample_charts(dataset: Dataset) -> dict[str, str]:
    """Three saved charts: a one-segment segmentation over the data's days (as recorded), a group-by with two label
    columns and forward-filled labels, and a funnel with steps and percentages."""
    stats = dataset.daily_stats()
    days = sorted(stats.all_active_users)
    segmentation = csv_text(
        [
            ["\tActive users"],
            ["\tDaily active users of the sample project"],
            [],
            ["\tUniques"],
            ["\tAny Active Event"],
            [],
            ["\tSegment", *[f"\t{day.isoformat()}" for day in days]],
            ["\tAll Users", *[str(stats.all_active_users[day]) for day in days]],
        ]
    )
    group_by = csv_text(GROUP_BY_CHART_ROWS)
    funnel = csv_text(
        [
            ["\tSignup funnel"],
            ["\tFrom page view to purchase"],
            [],
            ["\tConversion"],
            ["\tpage_view"],
            ["\tsign_up"],
            ["\tpurchase"],
            [],
            ["\tSegment", "\tStep 1: page_view", "\tStep 2: sign_up", "\tStep 3: purchase"],
            ["\tAll Users", "100%", "42.5%", "8.25%"],
        ]
    )
    return {"act1vusr": segmentation, "grp2plat": group_by, "fun3step": funnel}


def deletion_jobs(dataset: Dataset, today: date) -> list[dict[str, Any]]:
    """User Privacy API deletion jobs (recorded/deletions_create.json's shape) for some of the dataset's users, in
    every state a job passes through: done (20 days ago), submitted (2 days ago), staging (in 10 and 25 days). Users
    0..5 are deleted; user 2's deletion was requested with include_mapped_user_ids (so its user_id is listed)."""
    users = dataset._users

    def entry(index: int, requester: str, with_user_id: bool = False) -> dict[str, Any]:
        user = users[index]
        listed: dict[str, Any] = {"amplitude_id": user.amplitude_id, "requester": requester}
        if with_user_id:
            listed["user_id"] = user.user_id
        return listed

    def job(offset_days: int, status: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        day = today + timedelta(days=offset_days)
        requested = (day - timedelta(days=12)).isoformat()
        scrubbed = (day + timedelta(days=1)).isoformat() if status == "done" else None
        return {
            "active_scrub_done_date": scrubbed,
            "amplitude_ids": [{**e, "requested_on_day": requested} for e in entries],
            "app": str(dataset.app_id),
            "day": day.isoformat(),
            "status": status,
        }

    return [
        job(-20, "done", [entry(0, "rest"), entry(1, "privacy@example.com")]),
        job(-2, "submitted", [entry(2, "rest", with_user_id=True)]),
        job(10, "staging", [entry(3, "rest"), entry(4, "rest")]),
        job(25, "staging", [entry(5, "privacy@example.com")]),
    ]
