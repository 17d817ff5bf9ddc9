"""How the integration tests read what a user would: a page's text, a contact as shown and the
audit trail."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from fieldapp.models import AuditEvent


def page_text(response) -> str:
    """The page as a reader sees it: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def audit_actions(db, object_type: str, object_id) -> list[str]:
    """The audited actions on one record, oldest first."""
    return list(
        db().scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        )
    )


def snapshot(contact) -> dict:
    """Everything a user could see change on a contact."""
    return {
        "status": contact.status, "version": contact.version,
        "contact_date": contact.contact_date, "child_views": contact.child_views,
        "mode": contact.mode, "safety_scale": contact.safety_scale,
        "third_party_name": contact.third_party_name, "worries": contact.worries,
        "submitted_at": contact.submitted_at, "acknowledged_at": contact.acknowledged_at,
        "participants": [(p.role, p.name) for p in contact.participants],
        "actions": [a.description for a in contact.actions],
    }  # fmt: skip
