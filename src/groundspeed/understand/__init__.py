"""Understanding each post: language (and later information type, eyewitness score and place)."""

from __future__ import annotations

from groundspeed.understand.language import LanguageGuess, detect_language, detect_many

__all__ = ["LanguageGuess", "detect_language", "detect_many"]
