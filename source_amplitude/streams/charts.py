"""Saved charts: one stream chart_<id> per configured chart id, plus charts_metadata. Full refresh: a chart is an
aggregate Amplitude recomputes. There is no Basic-auth endpoint to list charts (docs/amplitude-api-notes.md), so the ids
come from the config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.call_rate import APIBudget
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import DEFAULT_POLICY, Outcome, Policy, skip
from source_amplitude.http import AmplitudeStream
from source_amplitude.parsers.charts import chart_metadata, chart_records, parse_chart_csv
from source_amplitude.parsers.common import Record, UnexpectedAnswer, expect_object

MISSING_CHART = (
    "Saved chart '{chart_id}' does not exist or this API key cannot read it (HTTP {{status}}: {{detail}}). "
    "Check the id in chart_ids (the code after /chart/ in the chart's URL) and that the chart is in this project."
)


def chart_csv_path(chart_id: str) -> str:
    return f"3/chart/{chart_id}/csv"


CHART_LEFT_OUT = (
    "a saved chart is left out: {endpoint} answered HTTP {status} ({detail}); its own chart_<id> stream fails "
    "with the reason"
)


def csv_text(body: Any) -> str:
    text = expect_object(body, "the answer").get("data")
    if not isinstance(text, str):
        raise UnexpectedAnswer("an object with the chart's CSV text under 'data'")
    return text


def chart_policy(chart_id: str) -> Policy:
    missing = Outcome(ResponseAction.FAIL, FailureType.config_error, MISSING_CHART.format(chart_id=chart_id))
    return DEFAULT_POLICY.but({403: missing, 404: missing})


class ChartStream(AmplitudeStream):
    primary_key = ["chart_id", "dimension_value", "segment"]

    def __init__(self, config: AmplitudeConfig, chart_id: str, api_budget: Optional[APIBudget] = None) -> None:
        self._chart_id = chart_id
        super().__init__(config, api_budget)

    @property
    def name(self) -> str:
        return f"chart_{self._chart_id}"

    def error_policy(self) -> Policy:
        return chart_policy(self._chart_id)

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # base is lru_cache-wrapped
        return ResourceSchemaLoader("source_amplitude").get_schema("chart")

    def path(self, **_: Any) -> str:
        return chart_csv_path(self._chart_id)

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        return chart_records(self._chart_id, parse_chart_csv(csv_text(body)))


class ChartsMetadata(AmplitudeStream):
    """One record per configured chart, from the CSV's preamble and shape. A chart that cannot be read is left out
    with a WARN here; its own chart_<id> stream fails with the reason."""

    primary_key = "chart_id"
    policy: ClassVar[Policy] = DEFAULT_POLICY.but({403: skip(CHART_LEFT_OUT), 404: skip(CHART_LEFT_OUT)})

    def __init__(self, config: AmplitudeConfig, api_budget: Optional[APIBudget] = None) -> None:
        super().__init__(config, api_budget)

    name = "charts_metadata"

    def stream_slices(self, **_: Any) -> Iterable[Optional[Mapping[str, Any]]]:
        return [{"chart_id": chart_id} for chart_id in self._config.chart_ids]

    def path(self, stream_slice: Optional[Mapping[str, Any]] = None, **_: Any) -> str:
        assert stream_slice is not None
        return chart_csv_path(stream_slice["chart_id"])

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        chart_id = stream_slice["chart_id"]
        return [chart_metadata(chart_id, parse_chart_csv(csv_text(body)))]
