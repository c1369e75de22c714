"""The web-analytics export: sessions with traffic source, medium, campaign and conversion.

File-based: an export job (e.g. a scheduled GA4/Matomo export to JSONL) writes `sessions*.jsonl`
into the folder named by C360_WEB_EXPORT_DIR, one object per session shaped as in
etl/mapping/web.json: `{"session_id", "session_start", "user": {"contact_id", "account_id"},
"traffic_source": {"source", "medium", "campaign_id"}, "pageviews", "engagement_seconds",
"converted"}`.
"""

from __future__ import annotations

from pathlib import Path

from etl.sources.exports import JsonExportSource


def web_source(export_dir: Path) -> JsonExportSource:
    """The web-analytics export in `export_dir`, mapped by etl/mapping/web.json."""
    return JsonExportSource("web", export_dir)
