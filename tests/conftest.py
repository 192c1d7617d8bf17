"""Session-wide test fixtures: the export folder, and the fake upstream."""

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from tests.servers import FakeUpstream, upstream_server


@pytest.fixture(scope="session", autouse=True)
def export_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports written by the tests go to a folder of their own."""
    root = tmp_path_factory.mktemp("exports")
    with override_settings(EXPORT_ROOT=root):
        yield root


@pytest.fixture(scope="session")
def canary() -> Iterator[FakeUpstream]:
    """A second fake upstream on another loopback address: nothing may reach it."""
    with upstream_server(host="127.0.0.2") as server:
        yield server


@pytest.fixture(scope="session")
def fake_upstream(canary: FakeUpstream) -> Iterator[FakeUpstream]:
    """The configured upstream; its redirects point at the canary."""
    with (
        upstream_server(redirect_to=f"{canary.url}/sources/profile") as server,
        override_settings(UPSTREAM_URL=server.url),
    ):
        yield server


@pytest.fixture
def upstream(fake_upstream: FakeUpstream, request: pytest.FixtureRequest) -> None:
    """Reset the fake's counters, and hand it to a TestCase as self.upstream."""
    fake_upstream.reset()
    if request.instance is not None:
        request.instance.upstream = fake_upstream


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool | None:
    """Leave the timer when asked off the main thread, where SIGALRM cannot be
    touched: a failing subTest in an async test reports from asgiref's thread, and
    would otherwise end the test before the next twin ran. The main thread
    cancels the timer when the test ends."""
    if threading.current_thread() is not threading.main_thread():
        return True
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With REQUIRE_NO_SKIPS=1 (CI's PostgreSQL run), any skipped test fails the run."""
    if os.environ.get("REQUIRE_NO_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        names = ", ".join(report.nodeid for report in skipped)
        reporter.write_line(f"REQUIRE_NO_SKIPS: {len(skipped)} skipped: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
