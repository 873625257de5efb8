"""The console script `source-amplitude`: run.py's entry point, started faster. airbyte-cdk's package
`__init__` imports the whole CDK (declarative sources, destinations, file-based sources, its version from git
through dunamai), about 0.7 s of the connector's ~2 s start, paid by every spec, check, discover and read, and by
PyAirbyte three times per sync. Only the submodules the connector imports are needed.

`defer_cdk_index()`, called before anything imports airbyte_cdk, registers the package without running its
`__init__`; the first time anything asks the package for a name it does not hold (`from airbyte_cdk import X`,
`airbyte_cdk.__version__`), the real `__init__` runs and answers, so nothing that relies on it breaks.
`read_attribute_docs_once()` saves another ~0.4 s: the CDK's protocol serializers, built as it is imported, read
attribute docstrings by parsing a module's whole source once per class (attribute_docs.py).

This module imports nothing of the CDK itself; `python -m source_amplitude.run` starts the same connector the usual
way."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

PACKAGE = "airbyte_cdk"


def defer_cdk_index() -> None:
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)  # __path__ set, __init__ not run
    loaded = False

    def load_on_first_missing_name(name: str) -> Any:
        nonlocal loaded
        submodule = sys.modules.get(f"{PACKAGE}.{name}")
        if submodule is not None:  # `import airbyte_cdk.sources.x as y` while airbyte_cdk.sources is being imported
            return submodule
        if loaded or (name.startswith("__") and name not in ("__version__", "__all__")):
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
        loaded = True
        assert spec.loader is not None
        spec.loader.exec_module(package)  # the package's own __init__, now
        return getattr(package, name)

    package.__getattr__ = load_on_first_missing_name  # type: ignore[method-assign]  # PEP 562
    sys.modules[PACKAGE] = package


def read_attribute_docs_once() -> None:
    """serpyco_rs (the CDK's protocol serializers) takes attributes_doc's function when it is imported: ours gives the
    same docstrings and parses each module once (attribute_docs.py)."""
    if "serpyco_rs" in sys.modules:
        return
    try:
        import attributes_doc
    except ImportError:  # a serpyco_rs without it: nothing to speed up
        return
    from source_amplitude.attribute_docs import get_attributes_doc

    attributes_doc.get_attributes_doc = get_attributes_doc


def main() -> None:
    defer_cdk_index()
    read_attribute_docs_once()
    from source_amplitude.run import run

    run()


def is_deferred(module: ModuleType) -> bool:
    """For the contract test: the package was registered by defer_cdk_index and its __init__ has not run."""
    return "__getattr__" in vars(module) and "__version__" not in vars(module)
