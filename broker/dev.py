"""Demo-mode only: the outbox of SMS and email codes, as a page and as JSON."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify, render_template
from sqlalchemy import select

from binding.models import OutboxMessage

from .services import services

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _messages(limit: int = 100) -> list[OutboxMessage]:
    factory = services().sessions
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))


@bp.get("/outbox")
def outbox():
    return render_template("dev/outbox.html", messages=_messages())


@bp.get("/outbox.json")
def outbox_json():
    return jsonify(messages=[
        {"id": m.id, "channel": m.channel, "recipient": m.recipient, "subject": m.subject, "body": m.body,
         "created_at": m.created_at.isoformat()} for m in _messages()
    ])


def register(app: Flask) -> None:
    app.register_blueprint(bp)
