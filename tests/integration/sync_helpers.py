"""A scripted tablet for the sync tests (SPEC §4): it signs in through the JSON API, registers a
device, numbers its mutations like the real outbox (per device, from 1, no gaps) and pushes and
pulls exactly as the wire contract says. Shared by test_sync_*.py."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import Child, User
from fieldapp.services.allocation import reallocate

from ..factories import PASSWORD, org_today


def sign_in(client, email: str) -> str:
    """Signs in through `POST /api/auth/login`; returns the CSRF token for X-CSRFToken."""
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["csrf_token"]


class Tablet:
    """One device of one signed-in user. Several tablets may share a client (same user, one
    sign-in): the session cookie is the user's, the device id is the tablet's."""

    def __init__(
        self,
        client,
        csrf_token: str,
        device_id: uuid.UUID | None = None,
        name: str = "Tablet",
        register: bool = True,
    ):
        self.client = client
        self.csrf_token = csrf_token
        self.device_id = device_id or uuid.uuid4()
        self.seq = 0
        self.cursor: str | None = None
        if register:
            response = self.register(name)
            assert response.status_code == 201, response.get_data(as_text=True)

    @classmethod
    def signed_in(cls, client, email: str, **kwargs) -> Tablet:
        return cls(client, sign_in(client, email), **kwargs)

    def another(self, name: str = "Second tablet") -> Tablet:
        """A second device of the same user (no second sign-in)."""
        return Tablet(self.client, self.csrf_token, name=name)

    # ---------------------------------------------------------------- requests

    def post(self, url: str, body: Any = None, **kwargs):
        headers = {"X-CSRFToken": self.csrf_token, **kwargs.pop("headers", {})}
        if "data" in kwargs:
            return self.client.post(url, headers=headers, **kwargs)
        return self.client.post(url, json=body, headers=headers, **kwargs)

    def register(self, name: str = "Tablet"):
        return self.post("/api/sync/devices", {"device_id": str(self.device_id), "name": name})

    def push(self, mutations: list[dict], expect: int | None = 200):
        response = self.post(
            "/api/sync/push", {"device_id": str(self.device_id), "mutations": mutations}
        )
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response

    def pull_once(
        self,
        cursor: str | None = None,
        limit: int | None = None,
        expect: int | None = 200,
        **params,
    ):
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        else:
            query.setdefault("device_id", str(self.device_id))
        if limit is not None:
            query["limit"] = limit
        response = self.client.get("/api/sync/pull", query_string=query)
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response

    def pull(self, limit: int | None = None) -> dict:
        """One page from the tablet's own cursor, which it then keeps (the page was applied)."""
        body = self.pull_once(self.cursor, limit).get_json()
        self.cursor = body["cursor"]
        return body

    def pull_all(self, limit: int | None = None, max_pages: int = 200) -> list[dict]:
        """Pages until has_more is false, as the tablet's sync loop does."""
        pages = []
        for _ in range(max_pages):
            page = self.pull(limit)
            pages.append(page)
            if not page["has_more"]:
                return pages
        raise AssertionError("pull never finished")

    # ---------------------------------------------------------------- the outbox

    def mutation(
        self,
        op: str,
        record_type: str,
        record_id,
        data: dict | None = None,
        *,
        base_version: int | None = None,
        seq: int | None = None,
        mutation_id: uuid.UUID | None = None,
    ) -> dict:
        """The next mutation of this device's outbox (seq numbered like the real queue)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {
            "mutation_id": str(mutation_id or uuid.uuid4()),
            "seq": seq,
            "op": op,
            "record_type": record_type,
            "record_id": str(record_id),
            "base_version": base_version,
            "data": data,
        }

    def create_contact(self, child_id, record_id=None, **fields) -> dict:
        return self.mutation(
            "create", "contact", record_id or uuid.uuid4(), contact_fields(child_id, **fields)
        )

    def update_contact(self, record_id, **changes: tuple[Any, Any]) -> dict:
        """`changes` maps a field to (old, new), sent as {field: {old, new}}."""
        data = {name: {"old": old, "new": new} for name, (old, new) in changes.items()}
        return self.mutation("update", "contact", record_id, data)


def contact_fields(child_id, **fields) -> dict:
    """A valid submitted face-to-face contact, three days ago (organisation date)."""
    data = {
        "child_id": str(child_id),
        "status": "submitted",
        "contact_date": (org_today() - timedelta(days=3)).isoformat(),
        "start_time": "10:30",
        "duration_minutes": 45,
        "mode": "face_to_face",
        "made_by": "practitioner",
        "child_seen": True,
        "seen_alone": False,
        "location": "placement",
        "child_views": "I like my new school.",
        "views_method": "conversation",
        "worries": None,
        "safety_scale": 7,
        "participants": [
            {
                "role": "carer",
                "name": "Sam Carer",
                "took_part_in_decisions": True,
                "views_and_wishes": "Stable",
                "feedback": None,
                "concerns": None,
            }
        ],
        "actions": [
            {
                "description": "Book dentist",
                "responsible": "Carer",
                "due_date": (org_today() + timedelta(days=14)).isoformat(),
            }
        ],
    }
    data.update(fields)
    return data


def statuses(response) -> list[str]:
    return [result["status"] for result in response.get_json()["results"]]


def ids_of(changes: list[dict], record_type: str | None = None, op: str | None = None) -> set[str]:
    return {
        c["record_id"]
        for c in changes
        if (record_type is None or c["record_type"] == record_type)
        and (op is None or c["op"] == op)
    }


def reallocate_child(engine, leader_id: int, child_id, to_user_id: int, on: date) -> None:
    """The team leader moves a child to another practitioner of the team (as the team page does)."""
    with Session(engine, expire_on_commit=False) as session:
        reallocate(
            session,
            session.get(User, leader_id),
            session.get(Child, child_id),
            to_user_id,
            on,
            "Caseload balancing",
        )
        session.commit()


def count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def tablets_of_one_user(app, count: int) -> list[Tablet]:
    """`count` tablets of the practitioner, each with its own client (one sign-in)."""
    main = app.test_client()
    token = sign_in(main, "pat@example.org")
    cookie = main.get_cookie("session").value
    tablets = []
    for number in range(count):
        client = app.test_client()
        client.set_cookie("session", cookie)
        tablets.append(Tablet(client, token, name=f"Tablet {number}"))
    return tablets
