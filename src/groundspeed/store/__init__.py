"""The store: SQLite by default; the only package that speaks SQL."""

from .db import PostFilter, Store, WriteResult, normalise_query
from .tracking import PreparedBatch, prepare_batch

__all__ = ["PostFilter", "PreparedBatch", "Store", "WriteResult", "normalise_query", "prepare_batch"]
