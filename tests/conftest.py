"""Fixtures shared by several test files."""
from __future__ import annotations

import pytest


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run the test inside its own temporary folder (the CLI writes relative paths)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
