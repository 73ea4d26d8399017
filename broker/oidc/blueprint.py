"""The OIDC provider's blueprint; the view modules add their routes to it."""
from flask import Blueprint

bp = Blueprint("oidc", __name__)
