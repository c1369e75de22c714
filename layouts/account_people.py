"""Customer 360, People & feedback: the customer's contacts with their role and engagement (a
contact's chats open in a side panel), the regional accounts linked into it (administrators link
and unlink here), and its summary, sentiment trend, recent survey answers and top topics.

callbacks/account_people.py fills the panels from dashboard.queries.account_journey.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.formatting import format_count
from dashboard.permissions import MANAGE_USERS, has_permission
from dashboard.queries.account_journey import (
    REFRESH_NOTE,
    AccountFeedback,
    ContactRow,
    ContactThread,
    LinkedAccounts,
)
from dashboard.queries.glossary import definition
from dashboard.scope import DataScope, current_scope
from layouts import theme
from layouts.account_journey import customer_header, day_of, resolve_heading, thread_messages
from layouts.components import chart_card, compact_table, no_selection_state, not_found_state
from layouts.kit.states import empty_reason, loading, skeleton

TIERS = {"Potential": "success", "Watch List": "warning", "Alert": "danger"}


class PeopleIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "ap-page"
    STATE = "ap-state"
    CONTACTS = "ap-contacts"
    CONTACT = "ap-contact"  # pattern-matching: {"type": CONTACT, "id": master contact id}
    THREAD = "ap-thread"
    THREAD_BODY = "ap-thread-body"
    LINKED = "ap-linked"
    LINK_FORM = "ap-link-form"
    LINK_INPUT = "ap-link-input"
    LINK_BUTTON = "ap-link-button"
    UNLINK = "ap-unlink"  # pattern-matching: {"type": UNLINK, "id": regional account id}
    LINK_MESSAGE = "ap-link-message"
    LINK_CHANGED = "ap-link-changed"
    SUMMARY = "ap-summary"
    SENTIMENT = "ap-sentiment"
    FEEDBACK = "ap-feedback"
    TOPICS = "ap-topics"


ID = PeopleIds
FEEDBACK_OUTPUTS = ("summary", "sentiment", "feedback", "topics")


def _link_form(may_link: bool) -> html.Div:
    """Link another regional account (administrators only; the callback checks again)."""
    return html.Div([
        dbc.InputGroup([
            dbc.Input(id=ID.LINK_INPUT, placeholder="Account id to link", type="text", maxLength=100),
            dbc.Button("Link", id=ID.LINK_BUTTON, color="primary"),
        ], size="sm", className="mb-1"),
        html.Div(REFRESH_NOTE, className="form-text"),
        html.Div(id=ID.LINK_MESSAGE),
    ], id=ID.LINK_FORM, hidden=not may_link, className="mt-2")


def layout(account_id: str | None = None, **_query: Any) -> html.Div:
    """Contacts, linked accounts, summary and feedback of one customer; the plain 404 when the
    customer is unknown or outside the user's scope."""
    heading = resolve_heading(account_id, current_scope())
    if heading is None:
        return not_found_state()
    thread = dbc.Offcanvas(loading(ID.THREAD_BODY, skeleton("card", 6)), id=ID.THREAD, title="Chat history",
                           placement="end", is_open=False, scrollable=True, className="c360-detail-panel")
    return html.Div([
        dcc.Store(id=ID.STATE, data={"account_id": heading.account_id}),
        dcc.Store(id=ID.LINK_CHANGED, data=0),
        customer_header(heading.account_id, "people", "People, linked accounts and what they say"),
        dbc.Row([
            dbc.Col(loading(ID.CONTACTS, skeleton("grid", 6), "grid"), lg=7, className="mb-3"),
            dbc.Col([loading(ID.LINKED, skeleton("grid", 4), "grid"), _link_form(has_permission(MANAGE_USERS))],
                    lg=5, className="mb-3"),
        ], className="g-3"),
        dbc.Row([
            dbc.Col(loading(ID.SUMMARY, skeleton("card", 4)), lg=5, className="mb-3"),
            dbc.Col(loading(ID.SENTIMENT, skeleton("chart", 6), "chart"), lg=7, className="mb-3"),
        ], className="g-3"),
        dbc.Row([
            dbc.Col(loading(ID.FEEDBACK, skeleton("grid", 5), "grid"), lg=7, className="mb-3"),
            dbc.Col(loading(ID.TOPICS, skeleton("chart", 5), "chart"), lg=5, className="mb-3"),
        ], className="g-3"),
        thread,
    ], id=ID.PAGE, className="c360-account-people")


# --- Contacts ----------------------------------------------------------------------------------


def _tier(tier: str | None) -> Any:
    return dbc.Badge(tier, color=TIERS.get(tier, "secondary")) if tier else html.Span("\u2014", className="text-muted")


def _contact_row(contact: ContactRow) -> list[Any]:
    name = dbc.Button(contact.name, id={"type": ID.CONTACT, "id": contact.contact_id}, color="link", size="sm",
                      className="p-0 text-start c360-contact-open", disabled=contact.conversations == 0,
                      title="Open the chat history" if contact.conversations else "No chats")
    reach = html.Div([html.Div(contact.email or "", className="c360-contact-email"),
                      html.Div(contact.phone or "", className="small text-muted c360-contact-phone")])
    role = html.Span([contact.job_title or "\u2014", " \u00b7 primary" if contact.is_primary else ""])
    score = "" if contact.engagement_score is None else f"{contact.engagement_score:.2f}"
    return [name, role, reach, _tier(contact.engagement_tier), score, format_count(contact.conversations)]


def contacts_panel(contacts: tuple[ContactRow, ...] | None, scope: DataScope) -> Any:
    if contacts is None:
        return not_found_state()
    if not contacts:
        body: Any = no_selection_state(empty_reason(scope, "No contacts are recorded for this customer's accounts."))
    else:
        body = compact_table(["Name", "Role", "Email / phone", "Engagement", "Score", "Chats"],
                             [_contact_row(c) for c in contacts], numeric=(4, 5), table_id="ap-contacts-table")
    return chart_card("Contacts", body, subtitle=f"{format_count(len(contacts))} people, most engaged first",
                      definition=definition("contact_engagement_tier"))


def thread_panel(thread: ContactThread | None) -> tuple[str, Any]:
    if thread is None:
        return "Chat history", no_selection_state("This contact is no longer available.")
    return f"Chats with {thread.name}", html.Div(
        thread_messages(thread.messages, "No chat messages from this contact."), id="ap-thread-messages")


# --- Linked accounts ---------------------------------------------------------------------------


def linked_panel(linked: LinkedAccounts | None, *, may_link: bool) -> Any:
    if linked is None:
        return not_found_state()
    rows = []
    for account in linked.accounts:
        unlink = (dbc.Button("Unlink", id={"type": ID.UNLINK, "id": account.account_id}, size="sm", color="danger",
                             outline=True) if may_link and not account.is_master else "")
        label = [account.account_name, html.Div(account.account_id + (" \u00b7 master" if account.is_master else ""),
                                                className="small text-muted")]
        rows.append([label, " / ".join(p for p in (account.region, account.country) if p),
                     f"{account.confidence}%", account.method.replace("_", " "), unlink])
    decisions = [html.Li(f"{d.action.title()} {d.account_id} by {d.created_by or 'unknown'} on {day_of(d.created_at)}"
                         + (" \u2014 applies at the next refresh" if d.pending else ""), className="small")
                 for d in linked.decisions]
    body = [compact_table(["Account", "Region", "Confidence", "Method", ""], rows, numeric=(2,),
                          table_id="ap-linked-table")]
    if decisions:
        body.append(html.Div([html.H6("Manual decisions", className="mt-3"), html.Ul(decisions, className="ps-3")]))
    return chart_card("Linked accounts", body, subtitle="The regional accounts behind this customer",
                      definition=definition("linked_accounts"))


# --- Summary and feedback ----------------------------------------------------------------------


def sentiment_figure(feedback: AccountFeedback) -> go.Figure:
    months = [m.month for m in feedback.sentiment]
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=16, b=32))
    fig.add_trace(go.Bar(
        x=[f"{m:%b %Y}" for m in months], y=[m.average for m in feedback.sentiment],
        marker_color=[theme.OKABE_ITO["green"] if m.average >= 0 else theme.OKABE_ITO["vermillion"]
                      for m in feedback.sentiment],
        customdata=[[m.texts, m.negative_share * 100] for m in feedback.sentiment],
        hovertemplate="%{x}: %{y:.2f} over %{customdata[0]} texts, %{customdata[1]:.0f}% negative<extra></extra>"))
    fig.update_yaxes(range=[-1, 1], zeroline=True, zerolinecolor="#9ca3af")
    return fig


def topics_figure(feedback: AccountFeedback) -> go.Figure:
    topics = list(reversed(feedback.topics))  # Plotly draws the first category at the bottom
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=24, t=16, b=24))
    fig.add_trace(go.Bar(y=[t.topic for t in topics], x=[t.texts for t in topics], orientation="h",
                         marker_color=theme.PRIMARY, customdata=[t.average_sentiment for t in topics],
                         hovertemplate="%{y}: %{x} texts, sentiment %{customdata:.2f}<extra></extra>"))
    return fig


def feedback_panels(feedback: AccountFeedback | None, scope: DataScope) -> dict[str, Any]:
    if feedback is None:
        return {name: not_found_state() for name in FEEDBACK_OUTPUTS}
    summary = (html.P(feedback.summary, className="mb-1") if feedback.summary
               else no_selection_state("No summary yet: it is written by the nightly insight jobs."))
    scores = " \u00b7 ".join(s for s in (f"NPS {feedback.nps:.1f}" if feedback.nps is not None else "",
                                          f"CSAT {feedback.csat:.1f}" if feedback.csat is not None else "") if s)
    summary_card = chart_card("Summary", [summary, html.Div(scores, className="small text-muted")],
                              subtitle=(f"Written {day_of(feedback.summary_generated_at)}"
                                        if feedback.summary_generated_at else None), card_id="ap-summary-card")
    sentiment = (sentiment_figure(feedback) if feedback.sentiment else no_selection_state(
        empty_reason(scope, "No scored messages, tickets or replies from this customer in the last 12 months.")))
    rows = [[day_of(f.responded_at), f.survey_type.upper(), "" if f.score is None else str(f.score),
             f.touchpoint or "", f.comment or ""] for f in feedback.feedback]
    answers = (compact_table(["Answered", "Survey", "Score", "Touchpoint", "Comment"], rows, numeric=(2,),
                             table_id="ap-feedback-table")
               if rows else no_selection_state("No survey answers from this customer yet."))
    topics = (topics_figure(feedback) if feedback.topics
              else no_selection_state("No topics: none of this customer's texts of the last 12 months was scored."))
    return {
        "summary": summary_card,
        "sentiment": chart_card("Sentiment by month", sentiment, subtitle="Average sentiment of scored texts, -1 to 1",
                                definition=definition("sentiment_trend")),
        "feedback": chart_card("Recent feedback", answers, subtitle="The latest survey answers (NPS 0-10, CSAT 1-5)"),
        "topics": chart_card("Top topics", topics, subtitle="Texts per topic, last 12 months"),
    }
