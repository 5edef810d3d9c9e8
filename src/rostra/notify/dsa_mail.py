"""The DSA emails: a notice's receipt and decision (to the notifier, Art. 16), a
statement of reasons (to the author, Art. 17), an appeal's outcome (to both) and a
notifier's complaint's outcome (Art. 20)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select

from rostra.notify.templates import RenderedEmail, catalog, render_email, site_language_of
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.tables import comments, sites

EXCERPT = 600
# The emails that go to a notifier, who did not write the comment they quote.
TO_NOTIFIER = frozenset({"receipt", "notice_decision", "complaint_decision",
                         "appeal_decision_notifier"})


def _excerpt(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= EXCERPT else text[:EXCERPT].rstrip() + "…"


def automated_key(decision: bool, detection: bool) -> str:
    """The catalog key saying whether automated means decided, or only detected."""
    if decision:
        return "dsa_automated_yes"
    return "dsa_automated_detected" if detection else "dsa_automated_no"


def site_language(conn: Any, site_id: str | None) -> str:
    """The site's first language (its settings' ``languages``) when there is a catalog
    for it, else English: DSA emails go out in the site's language."""
    settings = conn.scalar(select(sites.c.settings).where(sites.c.id == site_id))
    return site_language_of(settings.get("languages") if isinstance(settings, dict) else None)


def compose(conn: Any, row: Row[Any], base: str, tokens: Any,
            site_name: str, redress: str = "") -> RenderedEmail | None:
    """The email an outbox row of kind ``dsa`` stands for; None when what it is about is
    gone. ``row.payload``: {"what", "statement_id", "notice_id"}; ``redress``: where else
    the site tells authors and notifiers to turn (its ``dsa.redress``)."""
    payload = row.payload or {}
    what = payload.get("what")
    language = site_language(conn, row.site_id)
    t = catalog(language)
    notice = statement = None
    if payload.get("notice_id"):
        notice = conn.execute(select(dsa_notices).where(
            dsa_notices.c.id == payload["notice_id"])).first()
        if notice is None:
            return None
    if payload.get("statement_id"):
        statement = conn.execute(select(dsa_statements).where(
            dsa_statements.c.id == payload["statement_id"])).first()
        if statement is None:
            return None
    comment = None
    if row.comment_id is not None:
        comment = conn.execute(select(comments.c.text).where(
            comments.c.id == row.comment_id)).first()
    text = _excerpt(comment.text if comment is not None else "")
    lines: list[str] = []
    link = link_label = None
    if what == "receipt" and notice is not None:
        subject = t["dsa_receipt_subject"].format(site=site_name, id=notice.id)
        lines = [t["dsa_receipt_intro"].format(site=site_name, id=notice.id),
                 t["dsa_ground"].format(ground=notice.ground_label),
                 t["dsa_receipt_deadline"].format(
                     deadline=notice.deadline_at.strftime("%Y-%m-%d %H:%M UTC"))]
    elif what == "notice_decision" and notice is not None:
        subject = t["dsa_notice_decision_subject"].format(site=site_name, id=notice.id)
        lines = [t["dsa_notice_decision_intro"].format(id=notice.id),
                 t[f"dsa_outcome_{notice.outcome}"]]
        if notice.decision_reason:
            lines.append(t["dsa_reason"].format(reason=notice.decision_reason))
        if notice.outcome == "no_action":  # the notifier may complain (Art. 20(1))
            lines.append(t["dsa_complaint_how"])
            link = f"{base}/dsa/notice?token={tokens.notice_token(notice.id)}"
            link_label = t["dsa_complaint_link"]
        lines.append(t["dsa_notice_redress"])
    elif what == "complaint_decision" and notice is not None and notice.complaint_outcome:
        subject = t["dsa_complaint_subject"].format(site=site_name, id=notice.id)
        lines = [t[f"dsa_complaint_{notice.complaint_outcome}"].format(id=notice.id)]
        if notice.complaint_reason:
            lines.append(t["dsa_reason"].format(reason=notice.complaint_reason))
        if notice.complaint_outcome == "upheld":
            lines.append(t["dsa_notice_redress"])
    elif what == "statement" and statement is not None:
        subject = t[f"dsa_statement_subject_{statement.restriction}"].format(site=site_name)
        lines = [t[f"dsa_statement_{statement.restriction}"].format(site=site_name),
                 t["dsa_facts"].format(facts=statement.facts),
                 t["dsa_ground"].format(ground=statement.ground),
                 t[automated_key(statement.automated_decision,
                                 statement.automated_detection)],
                 t["dsa_appeal_how"]]
        link = f"{base}/dsa/statement?token={tokens.statement_token(statement.id)}"
        link_label = t["dsa_appeal_link"]
    elif what == "appeal_decision" and statement is not None:
        subject = t["dsa_appeal_subject"].format(site=site_name)
        lines = [t[f"dsa_appeal_{statement.appeal_outcome}"]]
        if statement.appeal_reason:
            lines.append(t["dsa_reason"].format(reason=statement.appeal_reason))
        if statement.appeal_outcome == "upheld":
            lines.append(t["dsa_appeal_further"])
    elif what == "appeal_decision_notifier" and statement is not None and notice is not None:
        subject = t["dsa_appeal_notifier_subject"].format(site=site_name, id=notice.id)
        lines = [t[f"dsa_appeal_notifier_{statement.appeal_outcome}"].format(id=notice.id)]
    else:
        return None
    if redress and what in ("notice_decision", "statement", "appeal_decision",
                            "complaint_decision"):
        lines.append(redress)
    comment_label = t["dsa_reported_comment" if what in TO_NOTIFIER else "dsa_comment"]
    return render_email("dsa", language, subject=subject, lines=lines, comment_text=text,
                        comment_label=comment_label, link=link, link_label=link_label,
                        site_name=site_name)
