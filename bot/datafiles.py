"""Load a YAML file into a pydantic model; any problem becomes a ConfigError naming file and field."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Hashable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import ConfigError
from bot.parse_cache import ParseCache

M = TypeVar("M", bound=BaseModel)


class _DataLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings and refuses a key given twice.

    PyYAML builds `datetime.date` objects while parsing, so an impossible date (`2026-02-30`) raises a
    bare ValueError with no field name. As strings they reach pydantic, which names the field.
    A repeated key would silently keep only its last value (two `due:` lines, one of them forgotten).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_repeated_keys(self, node, deep=deep)
        return super().construct_mapping(node, deep=deep)


def _refuse_repeated_keys(loader: yaml.constructor.BaseConstructor, node: yaml.MappingNode, *, deep: bool) -> None:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"found the key {key!r} twice; keep one", key_node.start_mark
            )
        seen.add(key)


def _timestamp_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_DataLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)


class _FastDataLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """_DataLoader's rules on libyaml's parser (several times faster: a library holds a thousand files).

    Only for files that parse: a file that does not is parsed again by _DataLoader, whose messages
    name the line in characters (libyaml counts bytes).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_repeated_keys(self, node, deep=deep)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_FastDataLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)


def read_yaml(path: Path, *, cache: ParseCache | None = None) -> Any:
    """The parsed contents of `path` (None for an empty file); ConfigError for anything unreadable.

    With a `cache`, a file read before with the same bytes is not parsed again (bot.parse_cache).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, [("(file)", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError(path, [("(file)", "expected a file, found a folder")]) from None
    except OSError as exc:
        raise ConfigError(path, [("(file)", f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            path, [(f"line {line}", f"expected UTF-8 text, got the byte 0x{data[exc.start]:02x} (save it as UTF-8)")]
        ) from None
    if cache is not None:
        found, parsed = cache.get(data)
        if found:
            return parsed
    try:
        parsed = yaml.load(text, Loader=_FastDataLoader)  # noqa: S506 (a SafeLoader subclass)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        pass  # reported below, as _DataLoader words it
    else:
        if cache is None:
            return parsed
        cache.put(data, parsed)
        return cache.pool.share(parsed)
    try:
        return yaml.load(text, Loader=_DataLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ConfigError(path, [_yaml_problem(exc, text)]) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # A constructor PyYAML runs while parsing (ints, floats, binary) refused a value.
        raise ConfigError(path, [("(file)", f"not valid YAML: {exc}")]) from None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, str]:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return f"line {line}", f"not valid YAML: {exc.reason} (character U+{int(exc.character):04X})"
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        mark = getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
    # One line per problem: PyYAML's own text spans several, with a copy of the offending line.
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    if "'\\t'" in problem:
        problem = f"{problem} (indent with spaces: YAML does not allow tabs)"
    return where, f"not valid YAML: {problem}"


def read_yaml_mapping(path: Path, *, empty: str | None = None, cache: ParseCache | None = None) -> dict[str, Any]:
    """`read_yaml`, requiring a mapping at the top level; an empty file is `{}` unless `empty` says why not."""
    raw = read_yaml(path, cache=cache)
    if raw is None:
        if empty is not None:
            raise ConfigError(path, [("(file)", empty)])
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(path, [("(top level)", f"expected a mapping, got {type(raw).__name__}")])
    return raw


def load_yaml_model(path: Path, model: type[M], *, empty: str | None = None, cache: ParseCache | None = None) -> M:
    """Read `path` and validate it as `model` (parsed through `cache` when given: bot.parse_cache)."""
    raw = read_yaml_mapping(path, empty=empty, cache=cache)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = ConfigError.from_validation(path, exc)
        unknown = {_dotted(e["loc"]): e["loc"] for e in exc.errors() if e["type"] == "extra_forbidden"}
        problems = [
            (field, _unknown_key(model, unknown[field]) if field in unknown else reason)
            for field, reason in error.problems
        ]
        raise ConfigError(path, problems) from None


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) if loc else "(top level)"


def _unknown_key(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """'unknown key' with the keys allowed there, and the likely one when it is a typo."""
    known = _fields_at(model, loc[:-1])
    if not known:
        return "unknown key: not allowed here"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key{hint}: expected one of {', '.join(known)}"


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model found by following `loc` (keys and list indexes) from `model`."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside `X`, `X | None` or `list[X]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
