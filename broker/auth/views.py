"""Login, registration and password reset pages (and their JSON answers)."""
from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
