"""source_amplitude/attribute_docs.py finds the same attribute docstrings as attributes_doc does, for every protocol
class the CDK's serializers describe and for the shapes a class statement can take, and the console script's start
uses it (launch.read_attribute_docs_once), so that the CDK's serializers describe the same schemas, sooner."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import airbyte_cdk.models.airbyte_protocol as cdk_protocol
import airbyte_protocol_dataclasses.models as protocol
import pytest
from attributes_doc import FStringFound
from attributes_doc._base import get_attributes_doc as original

from source_amplitude import attribute_docs

SHAPES = '''
import dataclasses
import enum


class Plain:
    a: int = 1
    """the a"""
    b = c = 2
    """b and c"""
    d: int = 3
    e = 4
    """the e, after d (which has none)"""
    f = 5
    7
    g: int
    "single-quoted"


class Child(Plain):
    a: int = 10
    """the child's a"""
    h = 6
    """the h"""


@dataclasses.dataclass
class Decorated:
    x: str = "x"
    """the x"""


class Outer:
    class Inner:
        y = 1
        """the inner y"""

    z = 2
    """the outer z"""


def factory():
    class Local:
        w = 1
        """the local w"""

    return Local


if True:
    class InABlock:
        v = 1
        """in an if"""
else:
    class InABlock:
        v = 1
        """the other one, which inspect never finds"""


class Colour(enum.Enum):
    RED = "red"
    """the red"""
    BLUE = "blue"


class Twice:
    t = 1
    """first"""


class Twice:  # noqa: F811
    t = 1
    """second, which inspect does not find either"""


class WithFString:
    n = 1
    f"""not a docstring: {n}"""
'''


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("shapes")
    (folder / "attribute_doc_shapes.py").write_text(textwrap.dedent(SHAPES))
    sys.path.insert(0, str(folder))
    try:
        import attribute_doc_shapes

        return attribute_doc_shapes
    finally:
        sys.path.remove(str(folder))


def protocol_classes() -> list[type]:
    found = {
        value
        for module in (protocol, cdk_protocol)
        for value in vars(module).values()
        if inspect.isclass(value) and (dataclasses.is_dataclass(value) or issubclass(value, enum.Enum))
    }
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


def test_every_protocol_class_gets_the_same_docstrings() -> None:
    """airbyte-protocol's classes have none today (the shapes below are where answers differ from {})."""
    classes = protocol_classes()
    assert len(classes) > 40
    for cls in classes:
        assert attribute_docs.get_attributes_doc(cls) == original(cls), cls


def test_every_shape_of_class_statement_gets_the_same_docstrings(shapes: ModuleType) -> None:
    classes = [
        shapes.Plain,
        shapes.Child,
        shapes.Decorated,
        shapes.Outer,
        shapes.Outer.Inner,
        shapes.factory(),
        shapes.InABlock,
        shapes.Colour,
        shapes.Twice,
        int,
        object,
    ]
    for cls in classes:
        assert attribute_docs.get_attributes_doc(cls) == original(cls), cls
    assert attribute_docs.get_attributes_doc(shapes.Child)["a"] == "the child's a"
    assert attribute_docs.get_attributes_doc(shapes.Outer.Inner) == {"y": "the inner y"}
    assert attribute_docs.get_attributes_doc(shapes.InABlock) == {"v": "in an if"}
    with pytest.raises(FStringFound):
        original(shapes.WithFString)
    with pytest.raises(FStringFound):
        attribute_docs.get_attributes_doc(shapes.WithFString)


def test_a_class_without_a_source_file_is_looked_up_as_inspect_does() -> None:
    namespace: dict[str, object] = {"__name__": "made_by_exec"}
    exec("class Made:\n    m = 1\n    '''the m'''\n", namespace)
    made = namespace["Made"]
    assert isinstance(made, type)
    assert attribute_docs.get_attributes_doc(made) == original(made) == {}


SCHEMAS = (
    "import json, sys\n"
    "{launch}"
    "from airbyte_cdk.models import airbyte_protocol_serializers as s\n"
    "names = sorted(name for name in vars(s) if name.endswith('Serializer') and name != 'Serializer')\n"
    "print(json.dumps({{name: getattr(s, name).get_json_schema() for name in names}}, sort_keys=True))\n"
)
USING_OURS = (
    "from source_amplitude import launch\n"
    "launch.defer_cdk_index(); launch.read_attribute_docs_once()\n"
    "import attributes_doc; assert attributes_doc.get_attributes_doc.__module__ == 'source_amplitude.attribute_docs'\n"
)


def test_the_cdks_serializers_describe_the_same_schemas_with_it() -> None:
    def schemas(launch: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", SCHEMAS.format(launch=launch)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[1],
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        loaded: dict[str, object] = json.loads(done.stdout)
        return loaded

    usual, ours = schemas(""), schemas(USING_OURS)
    assert len(usual) >= 6 and "ConnectorSpecificationSerializer" in usual
    assert len(json.dumps(usual["AirbyteMessageSerializer"])) > 10_000
    assert ours == usual
