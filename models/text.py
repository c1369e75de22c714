"""Text insights, all computed locally: sentiment, topics and keywords, and client summaries.

- Sentiment: VADER (vaderSentiment), a lexicon and rule-based scorer made for short, informal
  text such as chat messages. `compound` runs from -1 (most negative) to +1; the label uses
  VADER's own thresholds: positive at >= 0.05, negative at <= -0.05, neutral in between.
- Topics: TOPIC_LEXICON, a curated list of phrases per topic (matched as whole words, case
  insensitive); a text can have several topics or none.
- Keywords: the distinct words of a text, lower case, without stop words, numbers or words
  shorter than three letters, nor codes with digits (error or
  invoice numbers); counted by how many texts use them (plain counting: texts this
  short gain nothing from TF-IDF weighting).
- Summaries: `summarise_account` fills fixed sentence templates from an AccountFacts; every
  number goes through the formatting functions the pages use, handed in as NumberFormats.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

# Topic -> phrases that signal it. Whole-word matches; a trailing * matches any ending
# ("cancel*" matches cancel, cancelled, cancelling, cancellation).
TOPIC_LEXICON: dict[str, tuple[str, ...]] = {
    "refund": ("refund*", "money back", "reimburs*", "credit note", "chargeback*", "charged twice",
               "billed us twice", "duplicate payment", "duplicate charge"),
    "pricing": ("price*", "pricing", "cost*", "quote*", "discount*", "cheaper", "expensive", "offer"),
    "error/bug": ("error*", "bug*", "crash*", "not working", "nothing works", "broken", "fail*",
                  "err-*", "exception*", "glitch*"),
    "login": ("login*", "log in", "logging in", "sign in", "password*", "locked out", "2fa", "portal access",
              "access to the customer portal", "auth_*"),
    "outage": ("outage*", "down", "offline", "no connectivity", "loss of service", "dropped", "drops",
               "no carrier", "dead"),
    "performance": ("slow*", "latency", "packet loss", "lag*", "timeout*", "high latency"),
    "invoice": ("invoice*", "billing", "late fee", "vat", "charged", "payment*"),
    "cancel": ("cancel*", "terminate*", "termination", "switch provider", "move to a competitor",
               "considering leaving", "before we move"),
    "upgrade": ("upgrad*", "add it for", "another * users", "more users", "increase our", "bandwidth",
                "second office", "bundle"),
    "delivery/installation": ("installation*", "install*", "technician*", "delivery", "deliver*", "arrive*",
                              "appointment*", "scheduled"),
    "onboarding": ("onboard*", "welcome", "just signed up", "signed up", "training", "get started"),
    "security": ("security", "phishing", "suspicious", "firewall*", "breach*", "vpn"),
    "escalation": ("manager", "escalat*", "urgent*", "third time", "unacceptable", "again"),
}

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during
each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's me
more most mustn't my myself no nor not now of off on once only or other ought our ours ourselves out over own
please same shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them
themselves then there there's these they they'd they'll they're they've this those through to too under until
up very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
who who's whom why why's will with won't would wouldn't you you'd you'll you're you've your yours yourself
yourselves hi hello hey thanks thank thx ok okay yes yeah sure still get got one two also us can could would
any just quick hey there dear regards best cheers re fw fwd via per etc really much many well
good morning afternoon evening
""".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9'_\-]*")  # codes like err-5031 or inv1234 stay one token, then go


class TextInputError(ValueError):
    """The texts given cannot be analysed (for example not a sequence of strings)."""


def _as_series(texts: Iterable[str | None]) -> pd.Series:
    if isinstance(texts, str):
        raise TextInputError("expected many texts (a list or Series of strings), got one string")
    series = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
    return series.where(series.notna(), "").astype(str).reset_index(drop=True)


# --- Sentiment -------------------------------------------------------------------------------


def sentiment_label(compound: float) -> str:
    """positive, negative or neutral by VADER's thresholds."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loading the lexicon takes ~0.1 s; do it once per process.
    return SentimentIntensityAnalyzer()


def score_sentiment(texts: Iterable[str | None]) -> pd.DataFrame:
    """VADER compound score (-1..1) and label per text, in input order.

    Identical texts are scored once (customer messages repeat a lot). Empty texts score 0,
    neutral.
    """
    series = _as_series(texts)
    codes, distinct = pd.factorize(series)
    analyzer = _analyzer()
    scores = np.fromiter((analyzer.polarity_scores(t)["compound"] if t.strip() else 0.0 for t in distinct),
                         dtype=float, count=len(distinct))
    compound = scores[codes] if len(series) else np.zeros(0)
    labels = np.where(compound >= POSITIVE_THRESHOLD, "positive",
                      np.where(compound <= NEGATIVE_THRESHOLD, "negative", "neutral"))
    return pd.DataFrame({"compound": compound, "label": labels})


def format_sentiment(compound: float | None) -> str:
    """An average compound score as shown on the pages: +0.42, -0.10; an em dash when missing."""
    return "\u2014" if compound is None or np.isnan(compound) else f"{compound:+.2f}"


# --- Topics and keywords ---------------------------------------------------------------------


def _phrase_pattern(phrase: str) -> str:
    words = [re.escape(w).replace(r"\*", r"[\w\-]*") for w in phrase.lower().split()]
    return r"\b" + r"\s+".join(words) + (r"" if phrase.endswith("*") else r"\b")


TOPIC_PATTERNS: dict[str, re.Pattern[str]] = {
    topic: re.compile("|".join(_phrase_pattern(p) for p in phrases), re.IGNORECASE)
    for topic, phrases in TOPIC_LEXICON.items()
}


def detect_topics(texts: Iterable[str | None]) -> list[list[str]]:
    """The TOPIC_LEXICON topics each text mentions, in lexicon order (an empty list for none)."""
    series = _as_series(texts)
    codes, distinct = pd.factorize(series)
    distinct_series = pd.Series(distinct, dtype=object)
    hits = np.column_stack([distinct_series.str.contains(pattern, regex=True).to_numpy(dtype=bool)
                            for pattern in TOPIC_PATTERNS.values()]) if len(distinct) else np.zeros((0, 0))
    names = list(TOPIC_PATTERNS)
    per_distinct = [[names[j] for j in np.flatnonzero(row)] for row in hits]
    return [per_distinct[c] for c in codes]


def extract_keywords(texts: Iterable[str | None]) -> list[list[str]]:
    """Each text's distinct keywords in order of first use: lower case, no stop words or short words."""
    series = _as_series(texts)
    codes, distinct = pd.factorize(series)
    per_distinct = []
    for text in distinct:
        seen: dict[str, None] = {}
        for token in _WORD.findall(text.lower()):
            word = token.strip("'-_").removesuffix("'s")
            if len(word) >= 3 and word not in STOP_WORDS and not any(ch.isdigit() for ch in word):
                seen.setdefault(word, None)
        per_distinct.append(list(seen))
    return [per_distinct[c] for c in codes]


def keyword_counts(texts: Iterable[str | None], top_n: int | None = 50) -> pd.DataFrame:
    """Keywords by the number of texts that use them: columns `keyword`, `texts`; most used first."""
    counter: Counter[str] = Counter()
    for words in extract_keywords(texts):
        counter.update(words)
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame(rows[:top_n] if top_n else rows, columns=["keyword", "texts"])


# --- Client summaries ------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberFormats:
    """The page formatters every number in a summary goes through (layouts.components)."""

    usd: Callable[[float | None], str]
    count: Callable[[float | None], str]


def format_signed_percent(percent: float | None) -> str:
    """A change in percent as the KPI cards show it: +12.3%, -4.0%; an em dash when missing."""
    return "\u2014" if percent is None or np.isnan(percent) else f"{percent:+.1f}%"


def percent_of(change: float, base: float) -> float | None:
    """change / base in percent; None without a positive base."""
    return change / base * 100.0 if base > 0 else None


@dataclass(frozen=True)
class AccountFacts:
    """What a client summary says about one customer; every figure comes from gold.

    MRR figures are USD a month; the ticket and message counts cover the days ending on as_of.
    Risk drivers and anomalies are the sentences the jobs that found them wrote; open_events
    counts the open timeline events per title. `*_available` says whether that job has run.
    """

    account_id: str
    account_name: str
    as_of: date
    status: str
    mrr_usd: float
    mrr_usd_30d_ago: float
    mrr_usd_90d_ago: float
    active_services: int
    tickets_opened_30d: int
    tickets_opened_90d: int
    open_tickets: int
    overdue_usd: float
    messages_30d: int = 0
    negative_messages_30d: int = 0
    avg_sentiment_30d: float | None = None
    open_events: list[tuple[str, int]] = field(default_factory=list)  # (timeline title, open events), most first
    open_events_total: int = 0  # open timeline events of every title
    risk_available: bool = False
    risk_level: str | None = None
    churn_risk_score: float | None = None
    risk_drivers: list[str] = field(default_factory=list)
    anomalies_available: bool = False
    anomalies: list[str] = field(default_factory=list)
    next_action_available: bool = False
    next_action: str | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data


def _mrr_change(facts: AccountFacts, days: int, before: float, fmt: NumberFormats) -> str:
    change = facts.mrr_usd - before
    if change == 0:
        return f"unchanged over {days} days"
    verb = "up" if change > 0 else "down"
    pct = percent_of(change, before)
    share = f" ({format_signed_percent(pct)})" if pct is not None else ""
    return f"{verb} {fmt.usd(abs(change))}{share} over {days} days"


def _plural(count: int, word: str, fmt: NumberFormats) -> str:
    return f"{fmt.count(count)} {word}{'' if count == 1 else 's'}"


def summarise_account(facts: AccountFacts, formats: NumberFormats) -> str:
    """A short plain-English summary: recent change, open issues, risks and the next action."""
    fmt = formats
    name = facts.account_name
    lines = []
    if facts.status == "churned":
        lines.append(f"{name} has churned (MRR now {fmt.usd(facts.mrr_usd)}).")
    elif facts.active_services == 0:
        lines.append(f"{name} has no active services (MRR now {fmt.usd(facts.mrr_usd)}): "
                     f"{_mrr_change(facts, 90, facts.mrr_usd_90d_ago, fmt)}.")
    else:
        lines.append(f"{name} pays {fmt.usd(facts.mrr_usd)} MRR over "
                     f"{_plural(facts.active_services, 'active service', fmt)}: "
                     f"{_mrr_change(facts, 30, facts.mrr_usd_30d_ago, fmt)} and "
                     f"{_mrr_change(facts, 90, facts.mrr_usd_90d_ago, fmt)}.")
    if facts.tickets_opened_90d:
        activity = (f"It opened {_plural(facts.tickets_opened_30d, 'ticket', fmt)} in the last 30 days "
                    f"({fmt.count(facts.tickets_opened_90d)} in 90)")
    else:
        activity = "It opened no tickets in the last 90 days"
    if facts.messages_30d:
        activity += (f"; its {_plural(facts.messages_30d, 'message', fmt)} in 30 days average "
                     f"{format_sentiment(facts.avg_sentiment_30d)} sentiment "
                     f"({fmt.count(facts.negative_messages_30d)} negative)")
    lines.append(activity + ".")

    issues = []
    if facts.open_tickets:
        issues.append(_plural(facts.open_tickets, "open ticket", fmt))
    if facts.overdue_usd > 0:
        issues.append(f"{fmt.usd(facts.overdue_usd)} overdue")
    if facts.open_events:
        more = facts.open_events_total - sum(count for _, count in facts.open_events)
        listed = "; ".join(f"{title} ({fmt.count(count)})" for title, count in facts.open_events)
        issues.append(f"open events: {listed}" + (f"; {fmt.count(more)} more" if more > 0 else ""))
    lines.append("Open issues: " + ", ".join(issues) + "." if issues else "No open issues.")

    if not facts.risk_available:
        lines.append("Risk: no churn-risk model has run yet.")
    elif facts.risk_level is None:
        lines.append("Risk: not scored yet.")
    else:
        risk = f"Risk: {facts.risk_level} churn risk"
        if facts.churn_risk_score is not None:
            risk += f" (score {fmt.count(facts.churn_risk_score)} of 100)"
        lines.append(risk + (", driven by: " + "; ".join(facts.risk_drivers) if facts.risk_drivers else "") + ".")
    if facts.anomalies:
        lines.append("Unusual activity: " + "; ".join(facts.anomalies) + ".")

    if facts.next_action:
        lines.append(f"Suggested next action: {facts.next_action}")
    elif facts.overdue_usd > 0:
        lines.append(f"Suggested next action: chase the {fmt.usd(facts.overdue_usd)} overdue.")
    elif facts.open_tickets:
        lines.append(f"Suggested next action: follow up on the {_plural(facts.open_tickets, 'open ticket', fmt)}.")
    elif not facts.next_action_available:
        lines.append("Suggested next action: none yet (no next-best-action model has run).")
    else:
        lines.append("Suggested next action: none needed right now.")
    return " ".join(line if line.endswith(".") else line + "." for line in lines)


def summary_numbers(summary: str) -> list[str]:
    """The numbers a summary shows, as written ($12.3K, +4.5%, 7, +0.25), for checks against gold."""
    return re.findall(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?[KMB%]?", summary)  # not the 1 of "P1"

