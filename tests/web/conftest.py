from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from groundspeed.web import create_app

from .datasets import build


@pytest.fixture(scope="session")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the sample, a tracker, peaks, stories, insights and the XSS corpus.
    Shared by the tests that only read it."""
    return build(tmp_path_factory.mktemp("web") / "data")


@pytest.fixture
def client(web_data: Path) -> Iterator[TestClient]:
    with TestClient(create_app(web_data), base_url="http://127.0.0.1") as test_client:
        yield test_client
