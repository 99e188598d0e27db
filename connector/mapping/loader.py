"""Load a mapping file: parse YAML (safely, with lines), resolve ``extends:``, validate, compile.

Mapping files are untrusted: only regular files are read, and never more than ``MAX_FILE_BYTES``;
``extends`` names a shipped mapping or a file inside the extending file's own folder (no absolute path, no
``..``, no link out of the folder); YAML nesting and alias expansion are bounded (``yaml_lines.py``).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path, PurePath
from typing import Any

import yaml
from pydantic import ValidationError

from connector.errors import MappingError
from connector.mapping.compiler import CompiledMapping, compile_mapping
from connector.mapping.schema import MappingSpec
from connector.mapping.yaml_lines import LineDict, file_of, line_of, load_yaml, tag_file
from connector.shipped import MAPPINGS_PACKAGE, shipped_file, shipped_names

MAX_EXTENDS_DEPTH = 5
MAX_FILE_BYTES = 1_000_000
_SHIPPED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def shipped_mapping(name: str) -> Path:
    """A mapping shipped with the package (``mappings/<name>.yaml`` in the project)."""
    return shipped_file(MAPPINGS_PACKAGE, f"{name}.yaml")


def _read_bounded(path: Path) -> str:
    """The text of a regular file of at most ``MAX_FILE_BYTES`` (a device or a FIFO is refused unread)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise MappingError("cannot read mapping file: not a regular file", file=str(path))
        if info.st_size > MAX_FILE_BYTES:
            raise MappingError(f"mapping file is {info.st_size} bytes (limit {MAX_FILE_BYTES})", file=str(path))
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise MappingError(f"cannot read mapping file: {exc.strerror}", file=str(path)) from None
    if len(data) > MAX_FILE_BYTES:  # it grew since stat()
        raise MappingError(f"mapping file is over {MAX_FILE_BYTES} bytes", file=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(f"mapping file is not UTF-8 text (byte {exc.start})", file=str(path)) from None


def _read(path: Path) -> tuple[Any, str]:
    text = _read_bounded(path)
    try:
        doc = load_yaml(text, text_keys=True)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"not valid YAML: {problem}", file=str(path),
                           line=mark.line + 1 if mark else None) from None
    if not isinstance(doc, dict):
        raise MappingError("a mapping file must be a YAML table (key: value lines)", file=str(path), line=1)
    tag_file(doc, str(path))
    return doc, text


_FIELD_SOURCES = ("copy", "const", "expr")


def _merge(base: Any, override: Any) -> Any:
    """Deep-merge ``override`` into ``base``: tables merge key by key, a ``null`` deletes a key, anything
    else replaces.  A field that names its source (``copy``, ``const`` or ``expr``) replaces the inherited
    source rather than adding a second one.  Line information is kept from the file that provided each key."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    out = LineDict(base)
    if any(k in override for k in _FIELD_SOURCES):
        for k in _FIELD_SOURCES:
            out.pop(k, None)
    out.line = getattr(override, "line", getattr(base, "line", 0))
    out.key_lines = {**getattr(base, "key_lines", {}), **getattr(override, "key_lines", {})}
    out.key_files = {**getattr(base, "key_files", {}), **getattr(override, "key_files", {})}
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif key in out:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, depth: int = 0, chain: tuple[Path, ...] = ()) -> tuple[dict, list[str]]:
    doc, _ = _read(path)
    parent = doc.get("extends")
    if not parent:
        return doc, [str(path)]
    if depth >= MAX_EXTENDS_DEPTH:
        raise MappingError(f"'extends' chain deeper than {MAX_EXTENDS_DEPTH}", file=str(path), path="extends",
                           line=line_of(doc, ("extends",)))
    if not isinstance(parent, str):
        raise MappingError("'extends' takes a mapping name or a file path", file=str(path), path="extends",
                           line=line_of(doc, ("extends",)))
    try:
        candidate = _extends_target(parent, path)
    except ValueError as exc:
        raise MappingError(str(exc), file=str(path), path="extends", line=line_of(doc, ("extends",))) from None
    chain = (*chain, path.resolve())
    if candidate.resolve() in chain:  # a file that extends itself, or a loop of files
        raise MappingError(f"'extends' names {parent!r}, which leads back to this file (a loop)", file=str(path),
                           path="extends", line=line_of(doc, ("extends",)))
    base, files = _resolve(candidate, depth + 1, chain)
    merged = _merge(base, {k: v for k, v in doc.items() if k != "extends"})
    if isinstance(merged, LineDict):
        merged.key_lines = {**getattr(base, "key_lines", {}), **doc.key_lines}
        merged.key_files = {**getattr(base, "key_files", {}), **doc.key_files}
    return merged, [*files, str(path)]


def _extends_target(parent: str, path: Path) -> Path:
    """The file ``extends: parent`` names in the mapping file ``path``: a shipped mapping by name, or a file
    inside ``path``'s own folder.  ``ValueError`` says why anything else is refused."""
    if "/" not in parent and "\\" not in parent and not parent.endswith((".yaml", ".yml")):
        shipped = shipped_names(MAPPINGS_PACKAGE, ".yaml")
        if not _SHIPPED_NAME.match(parent) or parent not in shipped:
            raise ValueError(f"'extends' names {parent!r}, which is not a shipped mapping "
                             f"(shipped: {', '.join(shipped)}; or give a .yaml file in this mapping's folder)")
        return shipped_mapping(parent)
    relative = PurePath(parent)
    if relative.is_absolute() or "\\" in parent or ".." in relative.parts:
        raise ValueError(f"'extends' names {parent!r}: only a shipped mapping or a file in this mapping's "
                         "folder can be extended (no absolute path, no '..')")
    folder = path.parent.resolve()
    candidate = folder / relative
    if not candidate.exists():
        raise ValueError(f"'extends' names {parent!r}, which does not exist ({candidate})")
    if not candidate.resolve().is_relative_to(folder):
        raise ValueError(f"'extends' names {parent!r}, which leads out of this mapping's folder "
                         f"(to {candidate.resolve()})")
    return candidate


def load_spec(path: str | Path) -> tuple[MappingSpec, Any, list[str]]:
    """Validate a mapping file (with its ``extends`` chain) against the schema."""
    path = Path(path)
    doc, files = _resolve(path)
    try:
        spec = MappingSpec.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        key_path = ".".join(str(p) for p in loc)
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise MappingError(msg + more, file=file_of(doc, loc, files[-1]), path=key_path,
                           line=line_of(doc, loc)) from None
    return spec, doc, files


def load_mapping(path: str | Path) -> CompiledMapping:
    """Load, validate and compile a mapping file.  Raises ``MappingError`` naming file, key path and line."""
    spec, doc, files = load_spec(path)
    compiled = compile_mapping(spec, file=files[-1], doc=doc)
    compiled.source_files = files
    return compiled
