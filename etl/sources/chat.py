"""The chat/WhatsApp-style export: conversations, messages and campaign sends with delivery statuses.

File-based: an export job (WhatsApp Business API webhooks archived to JSONL, a helpdesk chat
export...) writes `conversations*.jsonl`, `messages*.jsonl` and `sends*.jsonl` into the folder
named by C360_CHAT_EXPORT_DIR. The shapes expected are those of etl/mapping/chat.json, e.g. a
message `{"id", "conversation_id", "timestamp", "direction", "from", "text": {"body"}}` and a
send `{"id", "campaign_id", "recipient": {"contact_id"}, "status", "statuses": {"sent",
"delivered", "read", "replied"}}`. A different export layout is a mapping change, not code.
"""

from __future__ import annotations

from pathlib import Path

from etl.sources.exports import JsonExportSource


def chat_source(export_dir: Path) -> JsonExportSource:
    """The chat export in `export_dir`, mapped by etl/mapping/chat.json."""
    return JsonExportSource("chat", export_dir)
