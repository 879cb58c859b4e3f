"""Fixtures of the browser tests; they live in ``tests/web/browser.py`` beside the helpers tests import."""

import pytest

from tests.web.browser import browser, lang, page, platform  # noqa: F401  (pytest fixtures)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n`` (xdist, ``--dist loadgroup``) every browser test runs in one worker, so the
    session starts one platform and one Chromium rather than one per worker."""
    for item in items:
        if "tests/web/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.xdist_group("browser"))
