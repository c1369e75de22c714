"""The chat/WhatsApp and web-analytics exports: mapped by config, each file read once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import text

from dashboard.db import Database
from etl.bronze import load_landing
from etl.sources import pull_all
from etl.sources.base import get_watermark
from etl.sources.config import SourceSettings


def _jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "{truncated\n")


def _landed(landing: Path, pattern: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(landing.glob(pattern)):
        with path.open(newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def test_chat_and_web_exports_land_once_and_load_into_bronze(scratch_db: Database, tmp_path: Path) -> None:
    chat, web, landing = tmp_path / "chat", tmp_path / "web", tmp_path / "landing"
    _jsonl(chat / "conversations_20261123T0900.jsonl", [
        {"id": "WA-C1", "contact_id": "CON-1", "started_at": "2026-11-23T09:00:00Z", "status": "Open",
         "assignee": {"agent_id": "AGT-2"}}])
    _jsonl(chat / "messages_20261123T0900.jsonl", [
        {"id": "wamid.1", "conversation_id": "WA-C1", "timestamp": 1795414800000, "direction": "Inbound",
         "from": "CON-1", "text": {"body": "Hi, my invoice is wrong"}}])
    _jsonl(chat / "sends_20261123T0900.jsonl", [
        {"id": "S-1", "campaign_id": "CMP-1", "recipient": {"contact_id": "CON-1"}, "status": "READ",
         "statuses": {"sent": "2026-11-23T08:00:00Z", "delivered": "2026-11-23T08:00:05Z",
                      "read": "2026-11-23T08:10:00Z"}}])
    _jsonl(web / "sessions_20261123.jsonl", [
        {"session_id": "W-1", "session_start": "2026-11-23T07:00:00Z", "user": {"contact_id": "CON-1"},
         "traffic_source": {"source": "Google", "medium": "CPC", "campaign_id": "CMP-1"}, "pageviews": 4,
         "engagement_seconds": 95, "converted": True}])
    settings = SourceSettings(chat_export_dir=chat, web_export_dir=web)

    result = pull_all(scratch_db, landing, settings)

    assert result.errors == {} and result.skipped == ["salesforce", "hubspot"]
    assert {(d.source, d.dataset): d.records for d in result.datasets} == {
        ("chat", "conversations"): 1, ("chat", "messages"): 1, ("chat", "sends"): 1, ("web", "sessions"): 1}
    (message,) = _landed(landing, "support/messages_chat_*.csv")
    assert (message["direction"], message["body"], message["sent_at"]) == (
        "inbound", "Hi, my invoice is wrong", "2026-11-23T06:20:00Z")
    (send,) = _landed(landing, "marketing/sends_chat_*.csv")
    assert (send["status"], send["delivered_at"], send["replied_at"], send["channel"]) == (
        "read", "2026-11-23T08:00:05Z", "", "whatsapp")
    (session,) = _landed(landing, "web/sessions_web_*.csv")
    assert (session["source"], session["medium"], session["converted"]) == ("google", "cpc", "true")
    with scratch_db.engine.connect() as conn:
        assert get_watermark(conn, "chat", "messages") == "messages_20261123T0900.jsonl"

    assert pull_all(scratch_db, landing, settings).records == 0  # the same files are not read twice
    loaded = load_landing(scratch_db, landing)
    assert {f.status for f in loaded.files} == {"loaded"}
    with scratch_db.engine.connect() as conn:
        assert conn.scalar(text("SELECT assigned_agent_id FROM bronze.support_conversations")) == "AGT-2"
        assert conn.scalar(text("SELECT duration_seconds FROM bronze.web_sessions")) == "95"
