"""Errors raised by groundspeed.

The library raises these; the CLI turns them into one clear sentence and a non-zero exit.
Problems with a single record are never raised: they are quarantined (see ``store.quarantine``).

::

    GroundspeedError
    ├── InputError             a file cannot be imported at all
    │   ├── UnreadableFileError    missing, a folder, no permission
    │   ├── UnknownFormatError     --format auto could not tell what the file is
    │   ├── TruncatedFileError     a compressed file ends early
    │   └── EncodingError          not UTF-8 (or the encoding given)
    ├── SpoolError             the on-disk log is damaged or cannot be written
    ├── StoreError             the database cannot be used
    │   ├── StoreLockedError       another process holds the write lock
    │   └── SchemaTooNewError      made by a newer groundspeed
    └── DiskFullError          no space left; nothing acknowledged was lost
"""

from __future__ import annotations


class GroundspeedError(Exception):
    """Base class: the message is written for the person running the command."""


class InputError(GroundspeedError):
    """A whole file cannot be imported."""


class UnreadableFileError(InputError):
    pass


class UnknownFormatError(InputError):
    pass


class TruncatedFileError(InputError):
    pass


class EncodingError(InputError):
    pass


class SpoolError(GroundspeedError):
    pass


class StoreError(GroundspeedError):
    pass


class StoreLockedError(StoreError):
    pass


class SchemaTooNewError(StoreError):
    pass


class DiskFullError(GroundspeedError):
    pass
