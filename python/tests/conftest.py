"""Shared fixtures of the Python tests: paths into the repository."""

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def repo():
    """The repository root (models are in ``hamiltonians/``)."""
    return REPO
