"""Files the team edits (YAML: the health model, playbooks, churn reasons, team ratios), read
with every mistake reported at once as "FILE, line N: path.to.field: what is wrong (got …)"."""

from __future__ import annotations

import yaml
from pydantic import ValidationError


class YamlFileError(ValueError):
    pass


def read_mapping(text: str, source: str, expected: str) -> tuple[dict, dict[tuple, int]]:
    """The file's mapping and the line of every key in it; `expected` says what the file should
    hold ("a model file is a mapping (name:, kind:, …)") when it is not a mapping."""
    try:
        data = yaml.safe_load(text)
        lines = key_lines(yaml.compose(text)) if isinstance(data, dict) else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise YamlFileError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or not text.strip():
        raise YamlFileError(f"{source}, line 1: {expected}")
    return data, lines


def validate(kind, data, prefix: tuple, lines: dict, source: str, problems: list[str]):
    """`kind` (a pydantic model) from `data`, or None with its mistakes added to `problems`."""
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            path = prefix + tuple(e["loc"])
            dotted = ".".join(str(p) for p in path) or "(top)"
            got = f" (got {e['input']!r})" if not isinstance(e.get("input"), dict | list) else ""
            message = e["msg"].removeprefix("Value error, ")
            problems.append(f"{source}, line {line_of(path, lines)}: {dotted}: {message}{got}")
        return None


def key_lines(node, path: tuple = (), lines: dict | None = None) -> dict[tuple, int]:
    """Path of every key and list item → its line in the file (1-based)."""
    lines = {} if lines is None else lines
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[path + (key.value,)] = key.start_mark.line + 1
            key_lines(value, path + (key.value,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key_lines(item, path + (i,), lines)
    return lines


def line_of(path: tuple, lines: dict) -> int:
    """The line of the deepest part of `path` the file has (a missing field: its parent's line)."""
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 1
