"""Runs the official airbyte-source-amplitude 0.6.19 (in its own virtualenv) against AMPLITUDE_BASE_URL.

Only its Events stream's host is patched; its download, parsing and output paths run unchanged."""

import os

from source_amplitude import streams  # the official package, not ours

BASE_URL = os.environ["AMPLITUDE_BASE_URL"]
streams.Events.url_base = property(lambda self: f"{BASE_URL}/api/")  # type: ignore[method-assign,assignment]

from source_amplitude.run import run  # noqa: E402

run()
