"""The docstrings of a class's attributes, exactly as `attributes_doc.get_attributes_doc` finds them, with each
module's source parsed once instead of once per class.

serpyco_rs, with which airbyte-cdk builds its protocol serializers as it is imported, asks for these docstrings for
every protocol class (they only end up in JSON schemas the connector never asks for). On Python < 3.13
`inspect.getsource(cls)` parses the class's whole module each time: for airbyte-protocol's one big module, about
0.5 s of each start of the connector (of ~1.2 s). `launch.py` puts this function in attributes_doc's place before
serpyco_rs imports it; the result is the same for every class (unit_tests/test_attribute_docs.py compares them for
each class the CDK's serializers describe)."""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from typing import Optional

import attributes_doc

_class_statements_by_file: dict[str, dict[str, ast.ClassDef]] = {}


def get_attributes_doc(cls: type) -> dict[str, str]:
    result: dict[str, str] = {}
    for parent in reversed(cls.mro()):
        definition = class_definition(parent)
        if definition is None:
            continue
        for stmt1, stmt2 in zip(definition.body, definition.body[1:]):
            if not isinstance(stmt1, (ast.Assign, ast.AnnAssign)) or not isinstance(stmt2, ast.Expr):
                continue
            doc_expr_value = stmt2.value
            if isinstance(doc_expr_value, ast.JoinedStr):
                raise attributes_doc.FStringFound
            if isinstance(doc_expr_value, ast.Constant):
                targets = [stmt1.target] if isinstance(stmt1, ast.AnnAssign) else stmt1.targets
                attr_names = [target.id for target in targets if isinstance(target, ast.Name)]
                if not isinstance(doc_expr_value.value, str):
                    continue
                for attr_name in attr_names:
                    result[attr_name] = doc_expr_value.value
    return result


def class_definition(cls: type) -> Optional[ast.ClassDef]:
    """The class statement of `cls` in its module's source, found as `inspect.findsource` finds it (the first class
    statement, in source order, whose qualified name is the class's); where that lookup cannot be made, through
    `inspect.getsource` itself, as attributes_doc does."""
    try:
        file = inspect.getsourcefile(cls)
    except TypeError:  # a built-in class: no source, as inspect.getsource says
        return None
    found = _class_statements(file).get(cls.__qualname__) if file else None
    if found is not None:
        return found
    try:
        source = inspect.getsource(cls)
    except (TypeError, OSError):
        return None
    statement = ast.parse(textwrap.dedent(source)).body[0]
    return statement if isinstance(statement, ast.ClassDef) else None


def _class_statements(file: str) -> dict[str, ast.ClassDef]:
    """Every class statement of a module by qualified name (inspect's: a function adds `name.<locals>`), the first
    of each name in source order; parsed once per file."""
    if file in _class_statements_by_file:
        return _class_statements_by_file[file]
    found: dict[str, ast.ClassDef] = {}
    linecache.checkcache(file)
    lines = linecache.getlines(file)
    try:
        tree = ast.parse("".join(lines)) if lines else None
    except SyntaxError:
        tree = None

    def walk(node: ast.AST, stack: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                found.setdefault(".".join((*stack, child.name)), child)
                walk(child, (*stack, child.name))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(child, (*stack, child.name, "<locals>"))
            elif isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):  # class statements live in these
                walk(child, stack)

    if tree is not None:
        walk(tree, ())
    _class_statements_by_file[file] = found
    return found
