"""The situation room: a live web dashboard over a data folder (``groundspeed serve``)."""

from .app import create_app

__all__ = ["create_app"]
