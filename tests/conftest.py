from __future__ import annotations

from pathlib import Path

import pytest

from groundspeed.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace; fsync is off only to keep the suite fast (crash tests turn it on)."""
    ws = Workspace(tmp_path / "data", fsync=False)
    yield ws
    ws.close()
