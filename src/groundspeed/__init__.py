"""groundspeed: follow a crisis through social media, from raw posts to a situation room."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
