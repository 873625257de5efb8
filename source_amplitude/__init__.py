"""source-amplitude. `SourceAmplitude` is imported on first use, so that the conversion workers
(pipeline/convert_worker.py), which import submodules of this package, do not load airbyte-cdk."""

from typing import Any

__all__ = ["SourceAmplitude"]


def __getattr__(name: str) -> Any:
    if name == "SourceAmplitude":
        from source_amplitude.source import SourceAmplitude

        return SourceAmplitude
    raise AttributeError(name)
