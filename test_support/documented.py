"""The command blocks of the README and the docs, as a user copies them: tests run them as pasted."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def block_under(document: str, heading: str, language: str) -> str:
    """The first `language` block after the heading that starts with `heading`."""
    text = (ROOT / document).read_text()
    start = re.search(rf"^#+ {re.escape(heading)}", text, re.MULTILINE)
    assert start, f"{document} has no heading {heading!r}"
    rest = text[start.end() :]
    match = re.search(rf"^```{language}\n(.*?)^```$", rest, re.MULTILINE | re.DOTALL)
    assert match, f"no {language} block under {heading!r} in {document}"
    return match.group(1)


def blocks_after(document: str, words: str, language: str, count: int) -> list[str]:
    """The first `count` `language` blocks after the first place `words` stand."""
    text = (ROOT / document).read_text()
    rest = text[text.index(words) :]
    found = [m.group(1) for m in re.finditer(rf"^```{language}\n(.*?)^```$", rest, re.MULTILINE | re.DOTALL)]
    assert len(found) >= count, f"fewer than {count} {language} blocks after {words!r} in {document}"
    return found[:count]


def runnable_lines(block: str) -> list[str]:
    """The block's commands, comments and blank lines left out."""
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
