"""Identity resolution: contact and account masters (silver) and manual account links (app)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Double, Index, SmallInteger, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base


class ContactMaster(Base):
    """Each silver contact and the master person it belongs to (rebuilt by etl.identity)."""

    __tablename__ = "contact_master"
    __table_args__ = {"schema": "silver"}

    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    master_contact_id: Mapped[str] = mapped_column(Text, index=True)
    # The strongest link that put this contact in its cluster; NULL for a contact on its own.
    match_probability: Mapped[float | None] = mapped_column(Double)
    method: Mapped[str] = mapped_column(Text)


class AccountMaster(Base):
    """Each silver account and its master account across regions (rebuilt by etl.identity)."""

    __tablename__ = "account_master"
    __table_args__ = (
        CheckConstraint("confidence BETWEEN 0 AND 100", name="confidence_range"),
        {"schema": "silver"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    master_account_id: Mapped[str] = mapped_column(Text, index=True)
    confidence: Mapped[int] = mapped_column(SmallInteger)  # 0-100; 100 for a lone or manually linked account
    method: Mapped[str] = mapped_column(Text)  # single, exact, fuzzy, parent, shared_contact, manual


class AccountLinkOverride(Base):
    """A person's decision that two accounts are (link) or are not (unlink) the same customer.

    Overrides always win over the automatic rules; for one pair the newest decision counts.
    """

    __tablename__ = "account_link_override"
    __table_args__ = (
        CheckConstraint("action IN ('link', 'unlink')", name="action"),
        CheckConstraint("account_id_a <> account_id_b", name="distinct_accounts"),
        Index("ix_account_link_override_pair", "account_id_a", "account_id_b"),
        {"schema": "app"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id_a: Mapped[str] = mapped_column(Text)
    account_id_b: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reason: Mapped[str] = mapped_column(Text, default="")


class IdentitySummary(Base):
    """What the identity build resolved, counted once per build for the data-quality page, which
    would otherwise count every contact and account link on each view. Silver, beside the links it
    counts: it is written in the same transaction, and gold changes only when gold is promoted.

    entity is people (silver.contact_master) or accounts (silver.account_master). kind 'figure':
    label records, masters or matched (records sharing their master with another); kind
    'confidence': label the whole percent of a linked record's confidence (-1 when unknown), for
    records not left single; kind 'method': label the link method.
    """

    __tablename__ = "identity_summary"
    __table_args__ = {"schema": "silver"}

    entity: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text, primary_key=True)
    records: Mapped[int] = mapped_column(BigInteger)
