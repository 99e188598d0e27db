"""Load a mapping file: parse YAML (safely, with lines), resolve ``extends:``, validate, compile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connector.errors import MappingError
from connector.mapping.compiler import CompiledMapping, compile_mapping
from connector.mapping.schema import MappingSpec
from connector.mapping.yaml_lines import LineDict, line_of, load_yaml
from connector.shipped import MAPPINGS_PACKAGE, shipped_file

MAX_EXTENDS_DEPTH = 5
MAX_FILE_BYTES = 1_000_000



def shipped_mapping(name: str) -> Path:
    """A mapping shipped with the package (``mappings/<name>.yaml`` in the project)."""
    return shipped_file(MAPPINGS_PACKAGE, f"{name}.yaml")


def _read(path: Path) -> tuple[Any, str]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MappingError(f"cannot read mapping file: {exc.strerror}", file=str(path)) from None
    if size > MAX_FILE_BYTES:
        raise MappingError(f"mapping file is {size} bytes (limit {MAX_FILE_BYTES})", file=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"not valid YAML: {problem}", file=str(path),
                           line=mark.line + 1 if mark else None) from None
    if not isinstance(doc, dict):
        raise MappingError("a mapping file must be a YAML table (key: value lines)", file=str(path), line=1)
    return doc, text


def _merge(base: Any, override: Any) -> Any:
    """Deep-merge ``override`` into ``base``: tables merge key by key, a ``null`` deletes a key, anything
    else replaces.  Line information is kept from the file that provided each key."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    out = LineDict(base)
    out.line = getattr(override, "line", getattr(base, "line", 0))
    out.key_lines = {**getattr(base, "key_lines", {}), **getattr(override, "key_lines", {})}
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif key in out:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, depth: int = 0) -> tuple[dict, list[str]]:
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
    candidate = Path(parent)
    if "/" not in parent and not parent.endswith((".yaml", ".yml")):
        candidate = shipped_mapping(parent)
    elif not candidate.is_absolute():
        candidate = path.parent / candidate
    if not candidate.exists():
        raise MappingError(f"'extends' names {parent!r}, which does not exist ({candidate})", file=str(path),
                           path="extends", line=line_of(doc, ("extends",)))
    base, files = _resolve(candidate, depth + 1)
    merged = _merge(base, {k: v for k, v in doc.items() if k != "extends"})
    if isinstance(merged, LineDict):
        merged.key_lines = {**getattr(base, "key_lines", {}), **doc.key_lines}
    return merged, [*files, str(path)]


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
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise MappingError(msg + more, file=files[-1], path=key_path, line=line_of(doc, loc)) from None
    return spec, doc, files


def load_mapping(path: str | Path) -> CompiledMapping:
    """Load, validate and compile a mapping file.  Raises ``MappingError`` naming file, key path and line."""
    spec, doc, files = load_spec(path)
    compiled = compile_mapping(spec, file=files[-1], doc=doc)
    compiled.source_files = files
    return compiled
