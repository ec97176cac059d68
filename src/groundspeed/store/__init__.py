"""The store: SQLite by default; the only package that speaks SQL."""

from .db import PostFilter, Store, WriteResult, normalise_query, pack_rows

__all__ = ["PostFilter", "Store", "WriteResult", "normalise_query", "pack_rows"]
