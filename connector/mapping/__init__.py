"""Declarative mappings: canonical records (a product, an order...) -> marketplace payloads (design §2)."""

from connector.mapping.compiler import CompiledMapping, CompiledPayload, RecordMappingError
from connector.mapping.loader import load_mapping, shipped_mapping
from connector.mapping.records import RecordType, record_type, register_record_type

__all__ = ["CompiledMapping", "CompiledPayload", "RecordMappingError", "RecordType", "load_mapping",
           "record_type", "register_record_type", "shipped_mapping"]
