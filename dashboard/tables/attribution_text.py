"""Tables of the channel-attribution, sentiment, topic and client-summary jobs."""

from __future__ import annotations
