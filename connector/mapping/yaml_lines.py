"""YAML loading that remembers the line of every key, so errors can point at the mapping file's line.

Mapping files are untrusted: nesting is bounded while the document is composed (before Python's recursion
limit is reached), and so is the number of nodes the document stands for once its aliases are expanded, so a
"billion laughs" file (aliases of aliases) is refused before anything walks it.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A dict from YAML that knows its own line and the line of each key (1-based), and, once an ``extends``
    chain merged several files into it, the file each key came from (``key_files``; see ``tag_file``)."""

    line: int = 0
    key_lines: dict[Any, int]
    key_files: dict[Any, str]


class LineList(list):
    line: int = 0
    item_lines: list[int]


MAX_YAML_DEPTH = 40  # collections nested in one document
MAX_YAML_NODES = 100_000  # nodes of one document, each alias counted as the whole node it stands for


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no Python object tags) that records line numbers, with bounded nesting and aliases."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node:  # type: ignore[override]
        node = super().compose_document()
        expanded = _expanded_size(node, {})
        if expanded > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"its aliases expand to {expanded:,} nodes (limit {MAX_YAML_NODES:,})", node.start_mark)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        self.flatten_mapping(node)
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_key(key_node)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark) from None
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            out[key] = self.construct_object(value_node, deep=True)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out

    def construct_key(self, node: yaml.Node) -> Any:
        return self.construct_object(node, deep=True)

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        out = LineList(self.construct_object(child, deep=True) for child in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [child.start_mark.line + 1 for child in node.value]
        return out


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes ``node`` stands for with every alias expanded (an alias is the same node object again)."""
    known = sizes.get(id(node))
    if known is not None:
        if known < 0:  # still being counted: an alias inside the collection its anchor names (&a [*a])
            raise yaml.composer.ComposerError(None, None, "an alias refers to the collection that holds it",
                                              node.start_mark)
        return known
    sizes[id(node)] = -1
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


# tags YAML gives a plain scalar it reads as other than text: ``true``, ``NO``, ``on``, ``38``, ``1.5``
_NOT_TEXT_TAGS = frozenset({"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


class _TextKeyLoader(_LineLoader):
    """``_LineLoader`` whose keys written plain (unquoted) are the text written when YAML would read them as a
    boolean or a number: in a mapping file every key is a name (a field, a table, an op) or a lookup table's key,
    which ``ops._table_key`` matches as text; ``{NO: Norway}`` (NO is false in YAML 1.1), ``{38: M}`` and an
    unquoted ``true: ACTIVE`` mean the text typed."""

    def construct_key(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in _NOT_TEXT_TAGS:
            return node.value
        return super().construct_key(node)


def load_yaml(text: str, *, text_keys: bool = False) -> Any:
    """Parse YAML safely (no arbitrary tags), keeping line numbers on dicts and lists.  ``text_keys``: plain keys
    are the text written, never a boolean or a number (``_TextKeyLoader``: mapping files)."""
    return yaml.load(text, Loader=_TextKeyLoader if text_keys else _LineLoader)


def tag_file(doc: Any, file: str) -> None:
    """Record ``file`` as the file of every key of ``doc``'s tables, however deep (before a merge mixes files)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, LineDict):
            node.key_files = dict.fromkeys(node, file)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def file_of(doc: Any, path: tuple[Any, ...], default: str | None) -> str | None:
    """The file that wrote the deepest known key of ``path`` (as ``line_of`` finds its line), else ``default``:
    a problem in a base mapping names the base file, not the file that extends it."""
    node, file = doc, default
    for part in path:
        if isinstance(node, LineDict) and part in node:
            file = getattr(node, "key_files", {}).get(part, file)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
    return file


def line_of(doc: Any, path: tuple[Any, ...]) -> int | None:
    """Best line for a key path into a document loaded by ``load_yaml`` (deepest known node)."""
    node, line = doc, getattr(doc, "line", None)
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
