"""PyAirbyte reads its settings from the environment when it is imported, so they are set here, before the test
module imports it: no registry lookups (the connector is a local executable) and a project directory of its own."""

from __future__ import annotations

import os
import tempfile

os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("AIRBYTE_PROJECT_DIR", tempfile.mkdtemp(prefix="pyairbyte-project-"))
