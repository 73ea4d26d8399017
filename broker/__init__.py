"""Tongxing (通行): identity federation and account-binding broker."""
from .app import create_app

__all__ = ["create_app"]
