"""Console entry point `source-amplitude`."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import ConnectorSpecification

from source_amplitude.config import parse_config
from source_amplitude.source import SourceAmplitude


class AmplitudeEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Any) -> None:
        # Our parser first: its messages name the field and the fix, where JSON-schema messages only quote the value.
        parse_config(config, datetime.now(UTC), os.environ)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run() -> None:
    source = SourceAmplitude()
    args = sys.argv[1:]
    entrypoint = AmplitudeEntrypoint(source)
    parsed = entrypoint.parse_args(args)
    with PRINT_BUFFER:  # as airbyte_cdk.entrypoint.launch does
        for message in entrypoint.run(parsed):
            print(f"{message}\n", end="")


if __name__ == "__main__":
    run()
