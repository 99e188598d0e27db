"""Declarative mappings: canonical product -> marketplace payloads (design §2)."""

from connector.mapping.compiler import CompiledMapping, CompiledPayload, RecordMappingError
from connector.mapping.loader import load_mapping, shipped_mapping

__all__ = ["CompiledMapping", "CompiledPayload", "RecordMappingError", "load_mapping", "shipped_mapping"]
