"""Hostile landing corpora: a copy of a landing folder with a share of its rows corrupted, and the
record of exactly what was done, for the hostile property test and `bench/hostile.py`.

    manifest = corrupt_landing(Path("var/landing"), Path("/tmp/hostile"), rate=0.01, seed=3)
    manifest.bad_rows()        # every row that must end in bronze.quarantine, with its column
    manifest.children          # rows that must follow their quarantined parent into quarantine
    write_reference_landing(manifest, Path("/tmp/reference"))  # the corpus without those rows

About `rate` of the data rows of every CSV file (stochastically rounded per file) get one defect
each, a random mix of `kinds`:

  bad_type          a number, integer or boolean column gets "abc", "1,5", "NaN"...  -> quarantined
  bad_date          a date or timestamp column gets "31/02/2025", "2025-13-01", "yesterday"...
                                                                                     -> quarantined
  invalid_utf8      raw bytes 0xff 0xfe inside a text field                          -> quarantined
  truncated         the file's last line is cut mid-row (after its key) and loses its newline
                                                                                     -> quarantined
  unknown_currency  a currency column gets "XQZ" or a hostile string; in the FX feed, new rows
                    of a non-ISO currency are inserted                               -> quarantined
  implausible_rate  (FX feed) a rate becomes 0, negative or x100 for one day          -> quarantined
  hostile_text      a free-text column gets SQL injection text, HTML, a spreadsheet formula,
                    RTL/zero-width/emoji/combining unicode, a 5,000-character string...
                    -> a GOOD row: silver must hold the value byte for byte
  duplicate_key     a second version of a row (same key, an edited free-text value) right after
                    it, or in a later file `<name>_later.csv`; with a newer, older or equal
                    updated_at when the dataset has one -> a GOOD row: the manifest says which
                    version must win (newest updated_at, then the later load, then the later row)

Column kinds come from the silver ORM types (dashboard/tables/silver.py) by column name. Key
columns are never given bad types or dates (a bad key is another defect), and each key is
corrupted at most once: only rows whose key occurs once in the dataset, that look clean (right
field count, values of their types, ISO currencies) and whose parent is not itself bad, are
picked. So a duplicate's updated_at is never a bad date.

FX corruptions are kept apart so that they never leave a row without a usable rate: a corrupted
rate (bad type, implausible) is an interior one, whose currency has published rates on the day
before and the day after, away from the feed's first and last five days, and at least three days
from another corrupted rate of the same currency (so every good rate keeps a good neighbour, and
a spike is more than C360_FX_MAX_DAILY_MOVE_PCT from both neighbours). The day of a quarantined
rate falls back to the day before's, well within C360_FX_MAX_FALLBACK_DAYS (this assumes it is
at least 1).

Rows of the declared families (a line item of an opportunity, a message of a conversation, a
payment, dispute or adjustment of an invoice, a reply to a send, a price change of a subscription,
a survey or onboarding milestone of an account) whose parent row is bad are listed as children: the
pipeline must quarantine them with the reason "parent <column> '<key>' quarantined".

Everything is deterministic for a seed: each file draws from its own generator seeded by the
seed and the file's path. Row-level work is done in Python, one dataset in memory at a time.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import pycountry
from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Numeric

from dashboard.tables import Base
from dashboard.tables.landing import DATASETS, Dataset
from etl.bronze import landing_files

ALL_KINDS: tuple[str, ...] = ("bad_type", "bad_date", "invalid_utf8", "truncated", "duplicate_key",
                              "unknown_currency", "hostile_text", "implausible_rate")
QUARANTINED_KINDS = frozenset({"bad_type", "bad_date", "invalid_utf8", "truncated", "unknown_currency",
                               "implausible_rate"})
FX_DATASET = "billing_fx_rates"

# Child dataset -> (its column holding the parent key, parent dataset).
FAMILIES: dict[str, tuple[str, str]] = {
    "crm_opportunity_line_items": ("opportunity_id", "crm_opportunities"),
    "support_messages": ("conversation_id", "support_conversations"),
    "billing_payments": ("invoice_id", "billing_invoices"),
    "marketing_replies": ("send_id", "marketing_sends"),
    "support_surveys": ("account_id", "crm_accounts"),
    "crm_onboarding_milestones": ("account_id", "crm_accounts"),
    "crm_price_changes": ("subscription_id", "crm_subscriptions"),
    "billing_disputes": ("invoice_id", "billing_invoices"),
    "billing_adjustments": ("invoice_id", "billing_invoices"),
}

# Free-text columns: no enum, no id, not lower-cased or otherwise derived by silver, so a value
# written there must come out of silver unchanged.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "crm_users": ("full_name",),
    "crm_accounts": ("account_name",),
    "crm_contacts": ("first_name", "last_name", "job_title"),
    "crm_leads": ("first_name", "last_name", "company"),
    "crm_products": ("product_name",),
    "crm_opportunities": ("opportunity_name",),
    "support_agents": ("full_name",),
    "support_tickets": ("subject",),
    "support_messages": ("body",),
    "billing_invoices": ("invoice_number",),
    "billing_credit_holds": ("reason",),
    "marketing_campaigns": ("campaign_name",),
    "marketing_campaign_variants": ("template_name", "message_text"),
    "marketing_replies": ("body",),
    "support_surveys": ("comment",),
}

# Silver table of a bronze dataset when it is not the dataset's own name.
_SILVER_TABLE = {"web_sessions": "web_sessions"}

BAD_VALUES: dict[str, tuple[str, ...]] = {
    "number": ("abc", "1,5", "NaN", "Infinity", "1.2.3"),
    "integer": ("abc", "1,5", "NaN", "2.5"),
    "boolean": ("abc", "1,5", "NaN", "maybe"),
    "date": ("31/02/2025", "2025-13-01", "yesterday", "2025-02-30"),
    "timestamp": ("31/02/2025", "2025-13-01", "yesterday", "2025-02-30T10:00:00Z", "2025-13-01T08:00:00Z"),
}
UNKNOWN_CURRENCIES = ("XQZ", "EURO", "US$", "€", "<b>EUR</b>", "Robert'); DROP TABLE accounts;--")
INVALID_UTF8 = "\udcff\udcfe"  # written with errors="surrogateescape": the raw bytes 0xff 0xfe


def _long_text() -> str:
    unit = "Lorem ipsum dolor sit amet — ünïcödé ✓ 漢字 "
    return ("X" + unit * (5000 // len(unit) + 1))[:4999] + "!"


HOSTILE_TEXTS: tuple[str, ...] = (
    "Robert'); DROP TABLE accounts;--",
    "' OR '1'='1'; --",
    "<script>alert(1)</script>",
    "<img src=x onerror=\"alert('x')\">",
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\u202eevil\u202c.exe \u05e2\u05d1\u05e8\u05d9\u05ea \u0639\u0631\u0628\u064a",  # RTL override, Hebrew, Arabic
    "zero\u200bwidth\u200c\u200djoiners\u2060and\ufeffbom",
    "emoji 👩‍👩‍👧‍👦 🇿🇦 💥 🧑🏽‍💻",
    "combining e\u0301 a\u0308 Z\u0335\u0321\u031b\u0358 \u0e01\u0e34\u0e4a",
    'quote " comma , semicolon ; tab \t pipe | backslash \\',
    "multi\nline\r\ntext\rend",
    "\\N",  # COPY's NULL marker in text format
    "NULL",
    "${jndi:ldap://x/a} %s %(name)s {0}",
    _long_text(),
)
assert len(HOSTILE_TEXTS[-1]) == 5000


@dataclass
class CorruptedRow:
    """One row written with a defect (or, for hostile_text and duplicate_key, a good oddity)."""

    dataset: str  # bronze table name, e.g. "crm_accounts"
    source_file: str  # relative to the corpus folder, e.g. "crm/accounts.csv"
    row_number: int  # 1-based record number in that file, header excluded, as bronze numbers it
    key: tuple[str, ...]
    kind: str
    column: str | None  # the column given the defect; None for a truncated line
    value: str | None  # what was written there (invalid bytes shown as U+DCFF U+DCFE)
    expect_quarantine: bool
    detail: str = ""  # the variant: "spike x100", "newer updated_at", "cut after 57 of 93 characters"...
    winner: str | None = None  # duplicate_key: "duplicate" or "original"
    expected_value: str | None = None  # hostile_text, duplicate_key: what silver must hold in `column`
    original_file: str | None = None  # duplicate_key: where the first version is
    original_row_number: int | None = None


@dataclass
class ChildRow:
    """A row of a declared family whose parent row is bad, so it must be quarantined too."""

    dataset: str
    source_file: str
    row_number: int
    key: tuple[str, ...]
    column: str  # the column holding the parent key
    parent_dataset: str
    parent_key: str
    parent_kind: str

    @property
    def reason(self) -> str:
        return f"parent {self.column} '{self.parent_key}' quarantined"


@dataclass
class HostileManifest:
    """What `corrupt_landing` wrote: per dataset, every corrupted row and every child of a bad parent."""

    source_dir: str
    out_dir: str
    rate: float
    seed: int
    kinds: tuple[str, ...]
    data_rows: dict[str, int] = field(default_factory=dict)  # dataset -> data rows in the corpus
    files: dict[str, list[str]] = field(default_factory=dict)  # dataset -> its corpus files
    corrupted: dict[str, list[CorruptedRow]] = field(default_factory=dict)
    children: dict[str, list[ChildRow]] = field(default_factory=dict)

    def all_corrupted(self) -> list[CorruptedRow]:
        return [r for rows in self.corrupted.values() for r in rows]

    def bad_rows(self) -> list[CorruptedRow]:
        """Rows that must be quarantined for their own defect."""
        return [r for r in self.all_corrupted() if r.expect_quarantine]

    def good_oddities(self) -> list[CorruptedRow]:
        """hostile_text and duplicate_key rows: good rows that must reach silver as the manifest says."""
        return [r for r in self.all_corrupted() if not r.expect_quarantine]

    def all_children(self) -> list[ChildRow]:
        return [c for rows in self.children.values() for c in rows]

    def quarantined_keys(self, dataset: str) -> set[tuple[str, ...]]:
        """Keys that must not be in silver: bad rows and children (each key is corrupted once)."""
        keys = {r.key for r in self.corrupted.get(dataset, ()) if r.expect_quarantine}
        return keys | {c.key for c in self.children.get(dataset, ())}

    def excluded_rows(self) -> dict[str, set[int]]:
        """source_file -> row numbers of the bad rows and children (what a clean corpus leaves out)."""
        out: dict[str, set[int]] = defaultdict(set)
        for r in self.bad_rows():
            out[r.source_file].add(r.row_number)
        for c in self.all_children():
            out[c.source_file].add(c.row_number)
        return dict(out)

    def counts(self) -> dict[str, int]:
        """Corrupted rows per kind, and children."""
        counts = Counter(r.kind for r in self.all_corrupted())
        counts["children"] = len(self.all_children())
        return dict(sorted(counts.items()))

    @property
    def total_rows(self) -> int:
        return sum(self.data_rows.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=True, indent=1)


# --- Column kinds ------------------------------------------------------------------------------


@cache
def column_kinds(ds: Dataset) -> dict[str, str]:
    """'date', 'timestamp', 'integer', 'number', 'boolean', 'json' or 'text' per column of the dataset,
    from the silver ORM column of the same name."""
    table = Base.metadata.tables.get(f"silver.{_SILVER_TABLE.get(ds.bronze_table, ds.name)}")
    kinds = {}
    for name in ds.columns:
        column = table.columns.get(name) if table is not None else None
        kind = column.type if column is not None else None
        if isinstance(kind, DateTime):
            kinds[name] = "timestamp"
        elif isinstance(kind, Date):
            kinds[name] = "date"
        elif isinstance(kind, Boolean):
            kinds[name] = "boolean"
        elif isinstance(kind, Integer):
            kinds[name] = "integer"
        elif isinstance(kind, Numeric | Float):
            kinds[name] = "number"
        elif isinstance(kind, JSON):
            kinds[name] = "json"
        else:
            kinds[name] = "text"
    return kinds


@cache
def required_columns(ds: Dataset) -> set[str]:
    """Columns silver requires (NOT NULL in the silver ORM), keys included."""
    table = Base.metadata.tables.get(f"silver.{_SILVER_TABLE.get(ds.bronze_table, ds.name)}")
    required = set(ds.key)
    if table is not None:
        required |= {c.name for c in table.columns if not c.nullable and c.name in ds.columns}
    return required


@cache
def iso_currencies() -> frozenset[str]:
    """ISO 4217 codes, from pycountry."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


_BOOLEANS = {"true", "false", "t", "f", "yes", "no", "y", "n", "on", "off", "1", "0"}


def value_problem(kind: str, value: str) -> str | None:
    """Why a non-empty text value is not a clean value of its kind, or None."""
    try:
        if kind == "date":
            if len(value) != 10 or value[4] != "-":
                return "not a year-first ISO date"
            date.fromisoformat(value)
        elif kind == "timestamp":
            if len(value) < 10 or value[4] != "-" or value[7] != "-":
                return "not a year-first ISO timestamp"
            datetime.fromisoformat(value)
        elif kind == "integer":
            int(value)
            if not value.lstrip("+-").isdigit():
                return "not an integer"
        elif kind == "number":
            if "n" in value.lower() or not Decimal(value).is_finite():
                return "not a finite number"
        elif kind == "boolean":
            if value.lower() not in _BOOLEANS:
                return "not a boolean"
        elif kind == "json":
            parsed = json.loads(value)
            if not isinstance(parsed, dict) or any(isinstance(v, dict | list) for v in parsed.values()):
                return "not a JSON object of scalar values"
    except (ValueError, InvalidOperation):
        return f"not a {kind}"
    return None


def row_problems(ds: Dataset, header: Sequence[str], fields: Sequence[str], *,
                 kinds: dict[str, str] | None = None, required: set[str] | None = None,
                 iso: frozenset[str] | None = None) -> list[str]:
    """What makes a record unclean by the landing contract (empty list: it looks clean)."""
    if len(fields) != len(header):
        return [f"expected {len(header)} fields, got {len(fields)}"]
    kinds = kinds if kinds is not None else column_kinds(ds)
    required = required if required is not None else required_columns(ds)
    iso = iso if iso is not None else iso_currencies()
    problems = []
    for name, value in zip(header, fields, strict=True):
        if any("\udc80" <= ch <= "\udcff" or ch == "\x00" for ch in value):
            problems.append(f"undecodable bytes or NUL in {name}")
            continue
        value = value.strip(" ")
        if not value:
            if name in required:
                problems.append(f"missing {name}")
            continue
        if (why := value_problem(kinds.get(name, "text"), value)) is not None:
            problems.append(f"{name}: {why}")
        if name == "currency" and value not in iso:
            problems.append(f"unknown currency {value!r}")
    return problems


# --- Reading and writing -------------------------------------------------------------------------


@dataclass
class _File:
    path: Path  # in the source folder
    rel: str  # relative path, e.g. "crm/accounts.csv"
    header: list[str]
    rows: list[list[str]]
    # The records to write, in order: (fields, the corrupted row's record or None, index of the
    # source row or None for an inserted one).
    out: list[tuple[list[str], CorruptedRow | None, int | None]] = field(default_factory=list)
    truncate_last: tuple[int, CorruptedRow] | None = None  # (cut position, record)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        rows = [r for r in reader if r]
    if header:
        header[0] = header[0].lstrip("\ufeff")
    return [h.strip() for h in header], rows


def _line(fields: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], tail: str | None = None) -> None:
    """Write a CSV file; `tail`, when given, is written last without a line terminator."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        if tail is not None:
            fh.write(tail)


def corpus_rows(landing_dir: Path, ds: Dataset) -> Iterable[tuple[str, int, list[str], list[str]]]:
    """(relative file, row number, header, fields) of every record of a dataset's CSV files."""
    for found, path in landing_files(Path(landing_dir)):
        if found.bronze_table != ds.bronze_table or path.suffix.lower() != ".csv":
            continue
        header, rows = _read_csv(path)
        rel = path.relative_to(landing_dir).as_posix()
        for number, fields in enumerate(rows, start=1):
            yield rel, number, header, fields


def record_key(ds: Dataset, header: Sequence[str], fields: Sequence[str]) -> tuple[str, ...] | None:
    """The record's key (values stripped of spaces), or None when the field count is wrong."""
    if len(fields) != len(header):
        return None
    index = {name: i for i, name in enumerate(header)}
    return tuple(fields[index[k]].strip(" ") for k in ds.key)


# --- Corrupting ----------------------------------------------------------------------------------


def _stochastic_round(x: float, rng: random.Random) -> int:
    whole = int(x)
    return whole + (1 if rng.random() < x - whole else 0)


def _applicable(ds: Dataset, kinds: dict[str, str]) -> dict[str, list[str]]:
    """Kind -> the columns it can corrupt in this dataset ([] for line-level kinds)."""
    non_key = [c for c in ds.columns if c not in ds.key]
    out: dict[str, list[str]] = {}
    typed = [c for c in non_key if kinds[c] in ("number", "integer", "boolean")]
    dated = [c for c in non_key if kinds[c] in ("date", "timestamp")]
    texts = [c for c in non_key if kinds[c] == "text"]
    if typed:
        out["bad_type"] = typed
    if dated and ds.bronze_table != FX_DATASET:
        out["bad_date"] = dated
    if texts:
        out["invalid_utf8"] = texts
    out["truncated"] = []
    if "currency" in ds.columns:
        out["unknown_currency"] = ["currency"]
    if ds.bronze_table in FREE_TEXT:
        out["hostile_text"] = list(FREE_TEXT[ds.bronze_table])
        out["duplicate_key"] = list(FREE_TEXT[ds.bronze_table])
    if ds.bronze_table == FX_DATASET:
        out["implausible_rate"] = ["usd_per_unit"]
    return out


def _shift_timestamp(value: str, days: int) -> str:
    stamp = datetime.fromisoformat(value.strip())
    shifted = stamp + timedelta(days=days)
    if value.strip().endswith("Z"):
        return shifted.strftime("%Y-%m-%dT%H:%M:%SZ")
    return shifted.isoformat()


def _cut_position(fields: list[str], header: list[str], ds: Dataset, rng: random.Random) -> int | None:
    """Where to cut the CSV line of `fields`: inside or at the end of an unquoted field after the
    last key field, before the end of the line."""
    last_key = max(header.index(k) for k in ds.key)
    line = _line(fields)
    candidates: list[int] = []
    position = 0
    for i, value in enumerate(fields):
        written = _line([value]) if value else ""
        start, end = position, position + len(written)
        if i > last_key and not written.startswith('"'):
            candidates += range(start, end + 1)
        position = end + 1  # the comma
    candidates = [p for p in candidates if 0 < p < len(line)]
    return rng.choice(candidates) if candidates else None


def corrupt_landing(source_dir: Path, out_dir: Path, *, rate: float = 0.01, seed: int = 0,
                    kinds: Sequence[str] = ALL_KINDS) -> HostileManifest:
    """Copy the landing folder `source_dir` to `out_dir`, corrupting about `rate` of the data rows
    of each CSV file with a random mix of `kinds`; return the record of what was done."""
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise ValueError(f"unknown kinds {unknown}; choose from {ALL_KINDS}")
    if not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1")
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    kinds = tuple(dict.fromkeys(kinds))
    manifest = HostileManifest(str(source_dir), str(out_dir), rate, seed, kinds)
    iso = iso_currencies()
    handled: set[Path] = set()
    by_dataset: dict[str, list[Path]] = defaultdict(list)
    for ds, path in landing_files(source_dir):
        if path.suffix.lower() == ".csv":
            by_dataset[ds.bronze_table].append(path)
            handled.add(path)
    for path in sorted(source_dir.rglob("*")):  # anything else (JSONL, Parquet, stray files) as is
        if path.is_file() and path not in handled:
            target = out_dir / path.relative_to(source_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    bad_keys: dict[str, dict[str, str]] = defaultdict(dict)  # parent dataset -> key -> kind
    for ds in DATASETS:  # parents come before their children in DATASETS
        paths = sorted(by_dataset.get(ds.bronze_table, ()))
        if not paths:
            continue
        _corrupt_dataset(ds, paths, source_dir, out_dir, manifest, rate, seed, kinds, iso, bad_keys)
    return manifest


def _corrupt_dataset(ds: Dataset, paths: list[Path], source_dir: Path, out_dir: Path, manifest: HostileManifest,
                     rate: float, seed: int, kinds: tuple[str, ...], iso: frozenset[str],
                     bad_keys: dict[str, dict[str, str]]) -> None:
    col_kinds = column_kinds(ds)
    required = required_columns(ds)
    applicable = {k: cols for k, cols in _applicable(ds, col_kinds).items() if k in kinds}
    family = FAMILIES.get(ds.bronze_table)
    bad_parents = bad_keys.get(family[1], {}) if family else {}
    files = []
    for path in paths:
        header, rows = _read_csv(path)
        files.append(_File(path, path.relative_to(source_dir).as_posix(), header, rows))
    key_counts = Counter(record_key(ds, f.header, row) for f in files for row in f.rows)

    def eligible(f: _File, fields: list[str]) -> bool:
        key = record_key(ds, f.header, fields)
        if key is None or key_counts[key] != 1 or not all(key):
            return False
        if family and fields[f.header.index(family[0])].strip(" ") in bad_parents:
            return False
        return not row_problems(ds, f.header, fields, kinds=col_kinds, required=required, iso=iso)

    records: list[CorruptedRow] = []
    originals: dict[int, tuple[_File, int]] = {}  # id(duplicate's record) -> (file, source row index)
    later_rows: list[tuple[list[str], CorruptedRow]] = []  # duplicates in `<name>_later.csv`
    for f in files:
        rng = random.Random(f"hostile/{seed}/{f.rel}")
        n = _stochastic_round(rate * len(f.rows), rng) if f.rows else 0
        if not n or not applicable:
            f.out = [(row, None, i) for i, row in enumerate(f.rows)]
            continue
        drawn = [rng.choice(sorted(applicable)) for _ in range(n)]
        fx = ds.bronze_table == FX_DATASET
        placed: dict[int, list[tuple[list[str], CorruptedRow]]] = defaultdict(list)  # insert after row i
        replaced: dict[int, CorruptedRow] = {}
        last = len(f.rows) - 1
        if "truncated" in drawn:
            drawn = [k for k in drawn if k != "truncated"]
            if eligible(f, f.rows[last]) and (cut := _cut_position(f.rows[last], f.header, ds, rng)) is not None:
                line = _line(f.rows[last])
                record = CorruptedRow(ds.bronze_table, f.rel, 0, record_key(ds, f.header, f.rows[last]) or (),
                                      "truncated", None, None, True,
                                      detail=f"cut after {cut} of {len(line)} characters")
                f.truncate_last = (cut, record)
                records.append(record)
        fx_index = _fx_index(f) if fx else None
        fx_taken: dict[str, list[date]] = defaultdict(list)
        candidates = rng.sample(range(last), min(last, 4 * len(drawn) + 20)) if last > 0 else []
        pending = list(drawn)
        for i in candidates:
            if not pending:
                break
            fields = f.rows[i]
            if not eligible(f, fields):
                continue
            kind = pending[0]
            if fx and kind in ("bad_type", "implausible_rate"):
                if not _fx_interior(f, fields, fx_index, fx_taken):
                    continue
            if kind == "duplicate_key":
                made = _duplicate(ds, f, i, fields, applicable[kind], rng)
                if made is None:
                    continue
                new_fields, record, later = made
                originals[id(record)] = (f, i)
                if later:
                    later_rows.append((new_fields, record))
                else:
                    placed[i].append((new_fields, record))
                records.append(record)
                pending.pop(0)
                continue
            if fx and kind == "unknown_currency":
                new_fields = list(fields)
                code = rng.choice(UNKNOWN_CURRENCIES)
                new_fields[f.header.index("currency")] = code
                key = record_key(ds, f.header, new_fields) or ()
                if key_counts[key]:
                    continue
                key_counts[key] += 1
                record = CorruptedRow(ds.bronze_table, f.rel, 0, key, kind, "currency", code, True,
                                      detail="inserted FX row of a non-ISO currency")
                placed[i].append((new_fields, record))
                records.append(record)
                pending.pop(0)
                continue
            record = _corrupt_in_place(ds, f, fields, kind, applicable[kind], rng)
            if record is None:
                continue
            replaced[i] = record
            records.append(record)
            pending.pop(0)
        for i, fields in enumerate(f.rows):
            f.out.append((fields, replaced.get(i), i))
            f.out.extend((new_fields, record, None) for new_fields, record in placed.get(i, ()))

    # Number the rows as bronze will, write the files, note the bad keys for the children.
    total = 0
    numbers: dict[tuple[str, int], int] = {}  # (file, source row index) -> row number written
    for f in files:
        out = f.out
        for number, (_fields, record, source_index) in enumerate(out, start=1):
            if record is not None:
                record.row_number = number
            if source_index is not None:
                numbers[(f.rel, source_index)] = number
        tail = None
        if f.truncate_last is not None:
            cut, record = f.truncate_last
            record.row_number = len(out)
            tail = _line(out[-1][0])[:cut]
            out = out[:-1]
        _write_csv(out_dir / f.rel, f.header, (fields for fields, _, _ in out), tail)
        manifest.files.setdefault(ds.bronze_table, []).append(f.rel)
        total += len(out) + (1 if tail is not None else 0)
    if later_rows:
        rel = (Path(files[0].rel).parent / f"{ds.name}_later.csv").as_posix()
        for number, (_fields, record) in enumerate(later_rows, start=1):
            record.row_number = number
            record.source_file = rel
        _write_csv(out_dir / rel, files[0].header, (fields for fields, _ in later_rows))
        manifest.files.setdefault(ds.bronze_table, []).append(rel)
        total += len(later_rows)
    for record in records:
        if id(record) in originals:
            f, index = originals[id(record)]
            record.original_row_number = numbers[(f.rel, index)]
    manifest.data_rows[ds.bronze_table] = total
    if records:
        manifest.corrupted[ds.bronze_table] = sorted(records, key=lambda r: (r.source_file, r.row_number))
    for record in records:
        if record.expect_quarantine and len(record.key) == 1:
            bad_keys[ds.bronze_table][record.key[0]] = record.kind
    if family and bad_parents:
        children = []
        for f in files:
            position = f.header.index(family[0])
            for number, (fields, record, _) in enumerate(f.out, start=1):
                if record is not None and record.expect_quarantine:
                    continue
                if len(fields) == len(f.header) and (parent := fields[position].strip(" ")) in bad_parents:
                    children.append(ChildRow(ds.bronze_table, f.rel, number, record_key(ds, f.header, fields) or (),
                                             family[0], family[1], parent, bad_parents[parent]))
        for fields, record in later_rows:
            if len(fields) == len(files[0].header):
                parent = fields[files[0].header.index(family[0])].strip(" ")
                if parent in bad_parents:
                    children.append(ChildRow(ds.bronze_table, record.source_file, record.row_number, record.key,
                                             family[0], family[1], parent, bad_parents[parent]))
        if children:
            manifest.children[ds.bronze_table] = children


def _corrupt_in_place(ds: Dataset, f: _File, fields: list[str], kind: str, columns: list[str],
                      rng: random.Random) -> CorruptedRow | None:
    """Give the row at hand one defect (or hostile text) in place; the record of it."""
    col_kinds = column_kinds(ds)
    key = record_key(ds, f.header, fields) or ()
    column = rng.choice(columns)
    position = f.header.index(column)
    original = fields[position]
    detail = ""
    if kind in ("bad_type", "bad_date"):
        value = rng.choice(BAD_VALUES[col_kinds[column]])
    elif kind == "invalid_utf8":
        cut = rng.randint(0, len(original))
        value = original[:cut] + INVALID_UTF8 + original[cut:]
    elif kind == "unknown_currency":
        value = rng.choice(UNKNOWN_CURRENCIES)
    elif kind == "implausible_rate":
        rate = Decimal(original.strip())
        variant = rng.choice(("zero", "negative", "spike"))
        value = {"zero": "0", "negative": f"-{rate}", "spike": f"{rate * 100}"}[variant]
        detail = {"zero": "zero rate", "negative": "negative rate", "spike": "spike x100"}[variant]
    elif kind == "hostile_text":
        value = rng.choice(HOSTILE_TEXTS)
    else:
        return None
    fields[position] = value
    good = kind == "hostile_text"
    return CorruptedRow(ds.bronze_table, f.rel, 0, key, kind, column, value, not good, detail=detail,
                        expected_value=value if good else None)


def _duplicate(ds: Dataset, f: _File, i: int, fields: list[str], columns: list[str],
               rng: random.Random) -> tuple[list[str], CorruptedRow, bool] | None:
    """A second version of row i with an edited free-text value: (its fields, record, in a later file?)."""
    key = record_key(ds, f.header, fields) or ()
    column = rng.choice(columns)
    position = f.header.index(column)
    original = fields[position]
    edited = (original.strip(" ") + " [edited]").strip(" ")
    copy = list(fields)
    copy[position] = edited
    has_updated = "updated_at" in f.header
    stamp = fields[f.header.index("updated_at")].strip(" ") if has_updated else ""
    variants = ["newer", "tie", "later_load"] + (["older"] if stamp else [])
    variant = rng.choice(variants)
    winner = "original" if variant == "older" else "duplicate"
    if has_updated and variant in ("newer", "older"):
        shifted = _shift_timestamp(stamp, 1 if variant == "newer" else -1) if stamp else "2020-01-01T00:00:00Z"
        copy[f.header.index("updated_at")] = shifted
    detail = {
        "newer": "next row, newer updated_at" if has_updated else "next row (no updated_at)",
        "older": "next row, older updated_at",
        "tie": "next row, same updated_at" if has_updated else "next row (no updated_at)",
        "later_load": "later file, same updated_at" if has_updated else "later file (no updated_at)",
    }[variant]
    record = CorruptedRow(ds.bronze_table, f.rel, 0, key, "duplicate_key", column, edited, False, detail=detail,
                          winner=winner, expected_value=edited if winner == "duplicate" else original.strip(" "),
                          original_file=f.rel)
    return copy, record, variant == "later_load"


def _fx_index(f: _File) -> dict[str, set[date]]:
    published: dict[str, set[date]] = defaultdict(set)
    h = f.header
    for row in f.rows:
        if len(row) == len(h):
            try:
                published[row[h.index("currency")].strip()].add(date.fromisoformat(row[h.index("rate_date")].strip()))
            except ValueError:
                continue
    return published


def _fx_interior(f: _File, fields: list[str], published: dict[str, set[date]] | None,
                 taken: dict[str, list[date]]) -> bool:
    """Whether an FX row may lose its rate: published the day before and after, away from the
    feed's ends and from another corrupted rate of its currency; if so, reserve it."""
    assert published is not None
    h = f.header
    currency = fields[h.index("currency")].strip()
    day = date.fromisoformat(fields[h.index("rate_date")].strip())
    days = published.get(currency, set())
    all_days = set().union(*published.values()) if published else set()
    if not days or day - timedelta(days=5) < min(all_days) or day + timedelta(days=5) > max(all_days):
        return False
    if day - timedelta(days=1) not in days or day + timedelta(days=1) not in days:
        return False
    if any(abs((day - other).days) < 3 for other in taken[currency]):
        return False
    taken[currency].append(day)
    return True


def write_reference_landing(manifest: HostileManifest, out_dir: Path) -> Path:
    """The corpus without its bad rows and their children: what the hostile corpus must load as.

    Every other record (hostile text, second versions, the later files) is kept, so a pipeline run
    over this folder must give the same silver and gold as one over the hostile corpus."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    corpus = Path(manifest.out_dir)
    excluded = manifest.excluded_rows()
    csv_files = {rel for rels in manifest.files.values() for rel in rels}
    for path in sorted(corpus.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(corpus).as_posix()
        target = out_dir / rel
        if rel not in csv_files:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            continue
        header, rows = _read_csv(path)
        drop = excluded.get(rel, set())
        _write_csv(target, header, (row for number, row in enumerate(rows, start=1) if number not in drop))
    return out_dir
