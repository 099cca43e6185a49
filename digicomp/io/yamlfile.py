"""Safe YAML loading that remembers where every node came from, and readable validation errors.

Every problem is reported as ``FILE:LINE: node.path[2].key: message`` so that a user can jump to the line;
no bare yaml or pydantic traceback ever reaches the user. Generic: knows nothing about frameworks or banks.

Typical use by a loader::

    data, linemap = load_yaml(path, FrameworkError)
    model = validate_model(FrameworkModel, data, path, linemap, FrameworkError)
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from digicomp.errors import DigicompError

LineMap = dict[str, int]
"""Node path (``areas[2].competences[0].code``; ``""`` is the document) -> 1-based source line."""

Loc = Sequence["str | int"]
M = TypeVar("M", bound=BaseModel)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MAX_PROBLEMS_SHOWN = 200
_NO_DATA = object()
_PATH_PART = re.compile(r"\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\.?([^.\[]+)")


def format_path(loc: Loc) -> str:
    """Render a location tuple (as pydantic gives it) as ``areas[2].competences[0].code``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def line_of(linemap: LineMap, path: str) -> int:
    """Line of ``path``, or of its nearest ancestor that exists in the file (a missing key -> its parent)."""
    while path not in linemap and path:
        cut = max(path.rfind("."), path.rfind("["))
        path = path[: max(cut, 0)]
    return linemap.get(path, 1)


def problem(path: str | PathLike[str], linemap: LineMap, loc: Loc | str, message: str) -> str:
    """One problem line ``FILE:LINE: node.path: message`` (the node path may be a tuple or a string)."""
    node = loc if isinstance(loc, str) else format_path(loc)
    return f"{path}:{line_of(linemap, node)}: {node or '(document)'}: {message}"


def raise_problems(error_cls: type[DigicompError], path: str | PathLike[str], problems: list[str]) -> None:
    """Raise ``error_cls`` listing every problem; the list is kept on the exception as ``.problems``."""
    shown = problems[:_MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    head = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"
    body = "\n".join(["  " + p for p in shown] + ([f"  ... and {more} more"] if more else []))
    exc = error_cls(f"{head}\n{body}")
    exc.problems = list(problems)  # type: ignore[attr-defined]
    raise exc


def load_yaml(path: str | PathLike[str], error_cls: type[DigicompError] = DigicompError) -> tuple[Any, LineMap]:
    """Parse one YAML document safely; return the data and the line of every node.

    Malformed YAML, an unreadable file, a value its tag cannot hold (``!!int 1e3``), nesting deeper than
    ``MAX_DEPTH``, recursive aliases, aliases that expand the document beyond ``alias_limit`` nodes, and duplicate
    mapping keys (which YAML would silently overwrite) raise ``error_cls`` naming the file and line.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error_cls(f"{path}: cannot read file: {exc.strerror or exc}") from None
    if _may_nest_deeply(raw):
        _screen(raw, path, error_cls)  # composing such a file could overflow the C stack: check the events first
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        linemap: LineMap = {}
        duplicates: list[str] = []
        if node is not None:
            _Walk(path, error_cls, linemap, duplicates).check(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise error_cls(_describe_yaml_error(path, exc)) from None
    except yaml.YAMLError as exc:
        raise error_cls(f"{path}: malformed YAML: {exc}") from None
    finally:
        loader.dispose()
    if duplicates:
        raise_problems(error_cls, path, duplicates)
    return data, linemap


SAFE_COMPOSE_DEPTH = 10_000
"""Nesting the C composer builds safely (it recurses in C: about 40,000 levels overflow the stack)."""


def _may_nest_deeply(raw: bytes) -> bool:
    """Whether the file could nest beyond SAFE_COMPOSE_DEPTH, by a bound computed from its bytes.

    A chain of nested block collections moves right at least every second level, so it is at most twice as long
    as the longest line; flow collections add at most one level per ``[`` or ``{``.
    """
    if len(raw) < 2 * SAFE_COMPOSE_DEPTH:
        return False
    breaks = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    longest = int(np.diff(breaks, prepend=-1, append=len(raw)).max())
    return raw.count(b"[") + raw.count(b"{") + 2 * (longest + 1) + 2 > SAFE_COMPOSE_DEPTH


MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences a document may have (frameworks and banks need fewer than 10)."""
ALIAS_NODES = 100_000
"""Nodes that aliases may add beyond ten times the nodes written: enough for shared option lists, not for a bomb."""


def alias_limit(written: int) -> int:
    """Most nodes a document of ``written`` nodes may have once its aliases are expanded."""
    return 10 * written + ALIAS_NODES


def _screen(raw: bytes, path: str | PathLike[str], error_cls: type[DigicompError]) -> None:
    """Refuse deep nesting, recursive aliases and alias bombs from the event stream, before building any node.

    One pass over the parser's events, counting every node as often as aliases repeat it (an anchor's count
    includes the aliases inside it), so a few hundred bytes that would expand to millions of nodes are
    refused in time linear in the file. Syntax errors are left to the loader, which words them.
    """
    events = _LOADER(raw)
    stack: list[list[Any]] = []  # [expanded nodes so far, anchor] per open collection
    sizes: dict[str, int] = {}
    written = expanded = 0
    try:
        while events.check_event():
            event = events.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                written += 1
                stack.append([1, event.anchor])
                if len(stack) > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise error_cls(f"{path}:{line}: nesting deeper than {MAX_DEPTH} levels (no digicomp document is)")
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                size, anchor = stack.pop()
            elif isinstance(event, yaml.ScalarEvent):
                written += 1
                size, anchor = 1, event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if any(open_anchor == event.anchor for _, open_anchor in stack):
                    line = event.start_mark.line + 1
                    raise error_cls(f"{path}:{line}: alias *{event.anchor}: an alias refers to a node that contains it")
                size, anchor = sizes.get(event.anchor, 1), None
            else:
                if isinstance(event, yaml.DocumentStartEvent):
                    sizes.clear()
                continue
            if anchor is not None:
                sizes[anchor] = size
            if stack:
                stack[-1][0] += size
            else:
                expanded += size
    except yaml.YAMLError:
        return
    finally:
        events.dispose()
    if expanded > alias_limit(written):
        shown = f"{expanded:,}" if expanded < 10**15 else "more than 10^15"
        raise error_cls(
            f"{path}:1: aliases (*name) expand the document's {written:,} nodes to {shown} "
            f"(at most {alias_limit(written):,}); write the repeated parts out or use fewer aliases"
        )


class _Loader(_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, with a value its tag cannot hold (``!!int 1e3``, ``!!bool maybe``) a YAML error."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """The safe constructor's object for ``node``; ConstructorError with the node's place if it fails."""
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError, IndexError) as exc:
            tag = node.tag.rsplit(":", 1)[-1]
            value = node.value if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
            shown = repr(value) if len(str(value)) <= 40 else f"{str(value)[:37]!r}... ({len(str(value))} chars)"
            reason = str(exc).split(";")[0][:120]
            raise yaml.constructor.ConstructorError(
                None, None, f"{shown} is not a valid {tag} ({type(exc).__name__}: {reason})", node.start_mark
            ) from None


def dump_yaml(data: Any, path: str | PathLike[str]) -> None:
    """Write ``data`` as block-style UTF-8 YAML, keys in the given order, non-ASCII text kept readable."""
    text = yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=110)
    Path(path).write_text(text, encoding="utf-8")


def validation_problems(
    exc: ValidationError,
    path: str | PathLike[str],
    linemap: LineMap,
    model_cls: type[BaseModel] | None = None,
) -> list[str]:
    """Every error of a pydantic ValidationError as a ``FILE:LINE: path: message`` line."""
    return error_lines(exc.errors(), path, linemap, model_cls)


def error_lines(
    errors: list[dict[str, Any]],
    path: str | PathLike[str],
    linemap: LineMap,
    model_cls: type[BaseModel] | None = None,
    data: Any = _NO_DATA,
) -> list[str]:
    """Pydantic errors (``ValidationError.errors()``) as ``FILE:LINE: path: message`` lines.

    Given the validated ``data``, node paths leave out the union members and tags pydantic adds.
    """
    return [problem(path, linemap, _clean_loc(err["loc"], data), _message(err, model_cls)) for err in errors]


def format_validation_error(
    exc: ValidationError,
    path: str | PathLike[str],
    linemap: LineMap,
    model_cls: type[BaseModel] | None = None,
) -> str:
    """The whole ValidationError as one message: a header and one ``FILE:LINE: path: message`` per line."""
    problems = validation_problems(exc, path, linemap, model_cls)
    return f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}\n" + "\n".join(
        "  " + p for p in problems
    )


def validate_model(
    model_cls: type[M],
    data: Any,
    path: str | PathLike[str],
    linemap: LineMap,
    error_cls: type[DigicompError] = DigicompError,
    context: dict[str, Any] | None = None,
) -> M:
    """Validate ``data`` into ``model_cls`` or raise ``error_cls`` listing every problem with its line."""
    try:
        return model_cls.model_validate(data, context=context)
    except ValidationError as exc:
        problems = validation_problems(exc, path, linemap, model_cls)
    raise_problems(error_cls, path, problems)
    raise AssertionError("unreachable")  # pragma: no cover


class Partial(typing.NamedTuple):
    """What :func:`validate_partial` found: the model of the parts that passed, and how to read its places."""

    model: Any
    """The model built from the parts that passed (None when a required top-level key failed)."""
    errors: list[dict[str, Any]]
    """Pydantic errors of the whole document (empty when it is valid)."""
    dropped: set[str]
    """Keys, ids and codes of the parts left out."""
    kept: dict[tuple[str | int, ...], list[int]]
    """Per list that lost elements (by its path in the file): the file positions of the elements kept."""

    def relocate(self, loc: Sequence[str | int]) -> tuple[str | int, ...]:
        """A node path in the model (list positions after leaving parts out) as the path in the file."""
        out: list[str | int] = []
        for part in loc:
            kept = self.kept.get(tuple(out))
            out.append(kept[part] if kept is not None and isinstance(part, int) and part < len(kept) else part)
        return tuple(out)


def validate_partial(model_cls: type[M], data: Any, context: dict[str, Any] | None = None, rounds: int = 20) -> Partial:
    """Validate ``data``; on failure, also build the model from the parts that passed, for the meaning checks.

    Each failing part is left out at its innermost list element or free-mapping entry (one item, one
    competence, one source); when an error is not inside such a part (a required top-level key), no model is
    built. ``Partial.dropped`` lets a caller skip meaning problems that only repeat a schema problem ("source 'x'
    is not defined" when source x was badly written) and ``Partial.relocate`` maps the model's node paths back
    to the file's.
    """
    try:
        return Partial(model_cls.model_validate(data, context=context), [], set(), {})
    except ValidationError as exc:
        errors = exc.errors()
    current = copy.deepcopy(data)
    result = Partial(None, errors, set(), {})
    failing = errors
    for _ in range(rounds):
        targets: dict[tuple[str | int, ...], tuple[Any, set[Any]]] = {}
        for err in failing:
            step = _prunable(model_cls, current, _clean_loc(err["loc"]))
            if step is None:
                return result
            path, container, key = step
            targets.setdefault(result.relocate(path), (container, set()))[1].add(key)
        for path, (container, keys) in targets.items():
            if isinstance(container, list):
                kept = result.kept.setdefault(path, list(range(len(container))))
            for key in sorted(keys, reverse=True):
                result.dropped.update(_names(key, container[key]))
                del container[key]
                if isinstance(container, list):
                    del kept[key]
        try:
            return result._replace(model=model_cls.model_validate(current, context=context))
        except ValidationError as exc:
            failing = exc.errors()
    return result


def _prunable(
    model_cls: type[BaseModel], data: Any, loc: Sequence[str | int]
) -> tuple[tuple[str | int, ...], Any, Any] | None:
    """(path of the container, container, key) of the innermost list element or free-mapping entry on the
    way to ``loc``, if there is one."""
    found = None
    current: Any = data
    annotation: Any = model_cls
    for depth, part in enumerate(loc):
        annotation = _unwrap(annotation)
        if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            found = (tuple(loc[:depth]), current, part)
            annotation = _element(annotation)
        elif isinstance(current, dict) and part in current:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                field = annotation.model_fields.get(str(part)) or next(
                    (f for f in annotation.model_fields.values() if f.alias == part), None
                )
                annotation = field.annotation if field is not None else None
            elif typing.get_origin(annotation) is dict:
                found = (tuple(loc[:depth]), current, part)
                annotation = _element(annotation)
            else:
                annotation = None
        else:
            break
        current = current[part]
    return found


def _names(key: Any, value: Any) -> set[str]:
    """The names a left-out part is referred to by: its mapping key, and its ``id`` or ``code``."""
    names = {key} if isinstance(key, str) else set()
    if isinstance(value, dict):
        names |= {v for k, v in value.items() if k in ("id", "code") and isinstance(v, str)}
    return names


def mentions(message: str, names: set[str]) -> bool:
    """True when ``message`` quotes one of ``names`` (as ``'name'``)."""
    return any(repr(name) in message for name in names)


def _describe_yaml_error(path: str | PathLike[str], exc: yaml.MarkedYAMLError) -> str:
    """``FILE:LINE:COL: malformed YAML: problem (context)`` from a yaml parser or scanner error."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    if "nesting depth" in (exc.problem or ""):  # PyYAML ≥ 6.0.4 stops deep nesting in its parser, before our walk
        return f"{where}: nesting deeper than {MAX_DEPTH} levels (no digicomp document is)"
    what = exc.problem or "syntax error"
    if exc.context:
        ctx_mark = exc.context_mark
        what += f" ({exc.context}" + (f" at line {ctx_mark.line + 1})" if ctx_mark else ")")
    return f"{where}: malformed YAML: {what}"


def _key_value(node: yaml.Node) -> str | int:
    """The key as the constructor builds it, for scalar keys: ints stay ints, everything else is text."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        try:
            return int(node.value)
        except ValueError:
            return node.value
    return node.value if isinstance(node, yaml.ScalarNode) else str(node.start_mark)


class _Walk:
    """One pass over the composed nodes: the line of every node path, duplicate keys, nesting depth, and the number
    of nodes once aliases are expanded (each shared node counted once per use, computed once)."""

    def __init__(self, file: Any, error_cls: type[DigicompError], linemap: LineMap, duplicates: list[str]) -> None:
        self.file, self.error_cls, self.linemap, self.duplicates = file, error_cls, linemap, duplicates
        self.sizes: dict[int, int] = {}
        self.active: set[int] = set()
        self.written = 0

    def check(self, node: yaml.Node) -> None:
        """Walk the document; refuse too deep nesting, recursive aliases and alias expansion past the limit."""
        expanded = self.walk(node, "", 1)
        if expanded > alias_limit(self.written):
            shown = f"{expanded:,}" if expanded < 10**15 else "more than 10^15"
            raise self.error_cls(
                f"{self.file}:1: aliases (*name) expand the document's {self.written:,} nodes to {shown} "
                f"(at most {alias_limit(self.written):,}); write the repeated parts out or use fewer aliases"
            )

    def walk(self, node: yaml.Node, path: str, depth: int) -> int:
        """Record ``node`` and its descendants (a node reached again through an alias is not walked again: its
        inner lines fall back to the alias's own line); the node's size with aliases expanded."""
        self.linemap.setdefault(path, node.start_mark.line + 1)
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        line = self.linemap[path]
        if key in self.active:
            raise self.error_cls(
                f"{self.file}:{line}: {path or '(document)'}: an alias refers to a node that contains it"
            )
        if depth > MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            raise self.error_cls(
                f"{self.file}:{line}: nesting deeper than {MAX_DEPTH} levels (no digicomp document is)"
            )
        self.active.add(key)
        self.written += 1
        size = 1
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                size += self.walk(child, f"{path}[{index}]", depth + 1)
        elif isinstance(node, yaml.MappingNode):
            size += self._mapping(node, path, depth)
        self.active.discard(key)
        self.sizes[key] = size
        return size

    def _mapping(self, node: yaml.MappingNode, path: str, depth: int) -> int:
        """Keys and values of a mapping; duplicate keys (YAML would keep the last) are collected."""
        size = 0
        keys: dict[str | int, int] = {}
        for key_node, value_node in node.value:
            size += self.walk(key_node, path, depth + 1) if not isinstance(key_node, yaml.ScalarNode) else 1
            self.written += isinstance(key_node, yaml.ScalarNode)
            if key_node.tag == "tag:yaml.org,2002:merge":
                size += self.walk(value_node, path, depth + 1)
                continue
            name = _key_value(key_node)
            line = key_node.start_mark.line + 1
            child = format_path(_split(path) + [name])
            if name in keys:
                self.duplicates.append(
                    f"{self.file}:{line}: {child}: duplicate key {name!r} (first given on line {keys[name]}); "
                    "YAML would silently keep only the last one"
                )
                continue
            keys[name] = line
            self.linemap[child] = line
            size += self.walk(value_node, child, depth + 1)
        return size


def _split(path: str) -> list[str | int]:
    """Inverse of :func:`format_path` for paths it produced."""
    parts: list[str | int] = []
    for match in _PATH_PART.finditer(path):
        index, single, double, plain = match.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(single if single is not None else double if double is not None else plain)
    return parts


def _clean_loc(loc: Iterable[str | int], data: Any = _NO_DATA) -> list[str | int]:
    """Drop pydantic's internal steps (union members, validator tags) so the path matches the file.

    With the document's ``data``, a step that is not a key or index of the data (a union member or tag such
    as ``calibrated`` or ``constrained-float``) is dropped too, except a missing key at the end.
    """
    parts = [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    if data is _NO_DATA:
        return parts
    out: list[str | int] = []
    current = data
    for k, part in enumerate(parts):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif k == len(parts) - 1 and isinstance(current, dict):
            out.append(part)
            break
        else:
            continue
        out.append(part)
    return out


def _message(err: dict[str, Any], model_cls: type[BaseModel] | None) -> str:
    """A user-facing wording of one pydantic error, with hints for the common YAML pitfalls."""
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        key = err["loc"][-1]
        allowed = _allowed_keys(model_cls, _clean_loc(err["loc"])[:-1]) if model_cls else []
        hint = difflib.get_close_matches(str(key), allowed, n=1)
        msg = f"unknown key {key!r}"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        return msg + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'expected text, got the number {value!r}; quote it in YAML ("{value}")'
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind not in ("value_error", "assertion_error") and not isinstance(value, (dict, list)):
        msg += f" (got {value!r})"
    return msg


def _allowed_keys(model_cls: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Keys a mapping at ``loc`` (inside ``model_cls``) may have, following field annotations."""
    current: Any = model_cls
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, str) and isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            if field is None:
                return []
            current = field.annotation
        else:
            current = _element(current)
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    """The model type inside ``X | None`` or ``Annotated[X, ...]``, else ``tp`` unchanged."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(models[0]) if len(models) == 1 else tp
    return tp


def _element(tp: Any) -> Any:
    """The element (list) or value (dict) type of a container annotation."""
    args = typing.get_args(_unwrap(tp))
    return args[-1] if args else None
