"""The fake upstream, started once for the tests that call it."""

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.servers import FakeUpstream, upstream_server


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
