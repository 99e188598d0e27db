"""The mapping file's schema (published as ``mappings/schema.json``).

A field is either a string (a copy path such as ``product.name``) or an object with exactly one of
``copy`` / ``const`` / ``expr``, optional whitelisted ``ops`` applied in order, and ``required``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from connector.mapping.records import ORDER, PRODUCT, record_type

OpSpec = str | dict[str, Any]
BUILTIN_RECORD_TYPES = (PRODUCT, ORDER)


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    copy_: str | None = Field(default=None, alias="copy", description="Path to copy, e.g. product.name")
    const: Any = Field(default=None, description="A constant value")
    expr: str | None = Field(default=None, description="Jinja2 expression, evaluated in a sandbox")
    ops: list[OpSpec] = Field(default_factory=list, description="Whitelisted operations, applied in order")
    required: bool = Field(default=False, description="Fail the record when the value is absent or empty")

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [k for k in ("copy_", "const", "expr") if k in self.model_fields_set]
        if len(given) != 1:
            names = [g.rstrip("_") for g in given] or ["none"]
            raise ValueError(f"a field needs exactly one of copy, const, expr (got: {', '.join(names)})")
        return self


def _copy_shorthand(value: Any) -> Any:
    """``name: product.name`` is short for ``name: {copy: product.name}``."""
    return {"copy": value} if isinstance(value, str) else value


FieldValue = Annotated[FieldSpec, BeforeValidator(_copy_shorthand, json_schema_input_type=str | FieldSpec)]


class ChildSpec(BaseModel):
    """A child collection (variants, translations...) matched by ``match_key`` across runs."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(description="Path of the list to iterate, e.g. product.variants or order.lines")
    as_: str = Field(default="item", alias="as", pattern=r"^[a-z][a-z0-9_]*$",
                     description="Name of each element in paths and expressions")
    match_key: str = Field(description="Field that identifies an element across runs (e.g. label)")
    when: str | None = Field(default=None, description="Path; the collection is sent only when it is true")
    fields: dict[str, FieldValue]
    children: dict[str, ChildSpec] = Field(
        default_factory=dict, description="Nested collections of each element (e.g. a variant's attributes)")


class PayloadSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Payload field that identifies the remote record (e.g. externalId)")
    create_only: list[str] = Field(default_factory=list, description="Fields sent only when creating")
    fields: dict[str, FieldValue]
    children: dict[str, ChildSpec] = Field(default_factory=dict)


class MappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    record: str = Field(
        default=PRODUCT.name, pattern=r"^[a-z][a-z0-9_]*$", examples=[t.name for t in BUILTIN_RECORD_TYPES],
        description="Record type this file maps; its name starts every path (product.name, order.number). "
                    "Registered types: " + "; ".join(f"{t.name}: {t.description}" for t in BUILTIN_RECORD_TYPES))
    marketplace: str
    description: str | None = None
    extends: str | None = Field(default=None, description="Shipped mapping name or path this file overrides")
    tables: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Lookup tables for ops")
    payloads: dict[str, PayloadSpec]

    @field_validator("record")
    @classmethod
    def _registered(cls, value: str) -> str:
        record_type(value)  # ValueError naming the known types
        return value


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of mapping files."""
    schema = MappingSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "connector mapping file"
    return schema
