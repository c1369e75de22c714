"""Mapping configs (etl/mapping/<source>.json): source records → landing-contract rows.

Each source table maps `source` paths (dotted for nested JSON, e.g. `properties.email`) to a
`target` column of its landing dataset, with a type, transformations and nullability. The
config is validated on load against etl/mapping/schema.json (jsonschema) and against the
landing contract (etl/datasets.py), so a typo fails with the file and the place named.
Adding a field is a config change: connectors query and land whatever the config lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import phonenumbers

from dashboard.tables.landing import DATASETS_BY_TABLE, Dataset

MAPPING_DIR = Path(__file__).resolve().parent.parent / "mapping"
_SCHEMA_PATH = MAPPING_DIR / "schema.json"
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


class MappingError(ValueError):
    """A mapping config is invalid; the message names the file and the offending place."""


class RecordError(ValueError):
    """One source record cannot be mapped (a required value is missing or has the wrong type)."""


@dataclass(frozen=True)
class ColumnMap:
    """One source field → one landing column."""

    source: str | None
    target: str
    type: str
    transform: tuple[str, ...] = ()
    nullable: bool = True
    default: Any = None


@dataclass(frozen=True)
class TableMap:
    """One source table (e.g. Salesforce Account) → one landing dataset."""

    name: str
    dataset: Dataset
    columns: tuple[ColumnMap, ...]
    watermark_field: str | None = None

    @property
    def source_fields(self) -> list[str]:
        """Top-level source fields to request, in config order (watermark field included)."""
        fields: list[str] = []
        paths = [c.source for c in self.columns if c.source]
        if self.watermark_field:
            paths.append(self.watermark_field)
        for path in paths:
            head = path.split(".")[0] if not path.startswith("properties.") else path
            if head not in fields:
                fields.append(head)
        return fields

    def map_record(self, record: dict[str, Any]) -> dict[str, str | None]:
        """The landing row for one source record; raises RecordError when it cannot be built."""
        row: dict[str, str | None] = dict.fromkeys(self.dataset.columns)
        for column in self.columns:
            raw = _lookup(record, column.source) if column.source else None
            if raw is None or raw == "":
                raw = column.default
            try:
                value = _convert(raw, column)
            except (ValueError, InvalidOperation) as exc:
                raise RecordError(f"{self.name}.{column.source}: {exc}") from None
            if value is None and not column.nullable:
                raise RecordError(f"{self.name}.{column.source or column.target}: required value missing")
            row[column.target] = value
        return row

    def watermark_of(self, record: dict[str, Any]) -> str | None:
        """The record's watermark value as received, or None."""
        if not self.watermark_field:
            return None
        value = _lookup(record, self.watermark_field)
        return None if value in (None, "") else str(value)


@dataclass(frozen=True)
class SourceMapping:
    """Every table mapping of one source system."""

    source: str
    tables: dict[str, TableMap]


def _lookup(record: dict[str, Any], path: str | None) -> Any:
    value: Any = record
    for part in (path or "").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        parsed = datetime.fromtimestamp(int(value) / 1000, tz=UTC)  # epoch millis, as HubSpot sends
    else:
        text = str(value).strip()
        # Salesforce writes +0000 (no colon); fromisoformat accepts it from Python 3.11 on.
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else "US")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {value!r} ({exc})") from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _convert(raw: Any, column: ColumnMap) -> str | None:
    if raw is None:
        return None
    value: Any = raw
    for step in column.transform:
        if step == "trim":
            value = str(value).strip()
        elif step == "lower":
            value = str(value).lower()
        elif step == "upper":
            value = str(value).upper()
        elif step == "e164":
            value = _e164(str(value))
        elif step == "cents_to_units":
            value = Decimal(str(value)) / 100
        elif step == "epoch_millis":
            value = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    if value == "":
        return None
    if column.type == "text":
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    if column.type == "integer":
        number = Decimal(str(value))
        if number != number.to_integral_value():
            raise ValueError(f"not an integer: {value!r}")
        return str(int(number))
    if column.type == "number":
        return format(Decimal(str(value)).normalize(), "f")
    if column.type == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return "true" if text in _TRUE else "false"
        raise ValueError(f"not a boolean: {value!r}")
    if column.type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        return date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 and text[4] == "-" else \
            _parse_timestamp(text).date().isoformat()
    if column.type == "timestamp":
        return _parse_timestamp(value).isoformat().replace("+00:00", "Z")
    raise ValueError(f"unknown type {column.type}")  # unreachable: the schema lists the types


@cache
def _schema() -> dict[str, Any]:
    return json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))


def parse_mapping(config: dict[str, Any], *, origin: str = "<mapping>") -> SourceMapping:
    """Validate a mapping config (schema, then landing contract) and build it."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]
        raise MappingError(f"{origin}: invalid mapping config:\n  " + "\n  ".join(lines))
    tables: dict[str, TableMap] = {}
    for name, spec in config["tables"].items():
        table = spec["target"].replace(".", "_")
        dataset = DATASETS_BY_TABLE.get(table)
        if dataset is None:
            raise MappingError(f"{origin}: tables/{name}/target: unknown landing dataset {spec['target']!r}")
        columns = []
        seen: set[str] = set()
        for i, col in enumerate(spec["columns"]):
            where = f"{origin}: tables/{name}/columns/{i}"
            if col["target"] not in dataset.columns:
                raise MappingError(f"{where}: {col['target']!r} is not a column of {spec['target']} "
                                   f"(columns: {', '.join(dataset.columns)})")
            if col["target"] in seen:
                raise MappingError(f"{where}: {col['target']!r} is mapped twice")
            seen.add(col["target"])
            columns.append(ColumnMap(source=col.get("source"), target=col["target"], type=col["type"],
                                     transform=tuple(col.get("transform", ())),
                                     nullable=col.get("nullable", True), default=col.get("default")))
        missing_keys = [k for k in dataset.key if k not in seen]
        if missing_keys:
            raise MappingError(f"{origin}: tables/{name}: the key column(s) {missing_keys} of "
                               f"{spec['target']} are not mapped")
        tables[name] = TableMap(name=name, dataset=dataset, columns=tuple(columns),
                                watermark_field=spec.get("watermark_field"))
    return SourceMapping(source=config["source"], tables=tables)


def load_mapping(source_or_path: str | Path) -> SourceMapping:
    """Load and validate `etl/mapping/<source>.json` (or a given path)."""
    path = Path(source_or_path)
    if path.suffix != ".json":
        path = MAPPING_DIR / f"{source_or_path}.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping config") from None
    except json.JSONDecodeError as exc:
        raise MappingError(f"{path}: not valid JSON: {exc}") from None
    return parse_mapping(config, origin=str(path))
