"""A generated `startproject` host for end-to-end tests of the audit's
command line, as test_host.py builds one: an async view with a sync ORM call
(an error in code) and CONN_MAX_AGE under ASGI (an error in the settings)."""

import json
import subprocess
from pathlib import Path

from tests.audit.test_host import HOST_SETTINGS, SHOP_MODELS, SHOP_VIEWS, run

COMMAND = ["manage.py", "async_audit"]
PYTHON_M = ["-m", "topics.audit", "--settings", "host.settings"]
ENTRY_POINTS = {"manage.py async_audit": COMMAND, "python -m topics.audit": PYTHON_M}


def build_host(root: Path) -> None:
    """Generate the host project in `root`."""
    for command in (["startproject", "host", "."], ["startapp", "shop"]):
        made = run(["-m", "django", *command], cwd=root)
        assert made.returncode == 0, made.stderr
    (root / "shop" / "views.py").write_text(SHOP_VIEWS)
    (root / "shop" / "models.py").write_text(SHOP_MODELS)
    (root / "host" / "urls.py").write_text(
        "from django.urls import path\n\nfrom shop.views import item_list\n\n"
        'urlpatterns = [path("items/", item_list)]\n'
    )
    (root / "Procfile").write_text("web: uvicorn host.asgi:application\n")
    with (root / "host" / "settings.py").open("a") as host_settings:
        host_settings.write(HOST_SETTINGS)


def audit(
    root: Path, *args: str, entry: list[str] = COMMAND
) -> subprocess.CompletedProcess:
    """Run the audit in the host through `entry`, with `args`."""
    return run([*entry, *args], root)


def codes(completed: subprocess.CompletedProcess) -> list[str]:
    """The codes a --format json run reported, sorted."""
    return sorted(f["code"] for f in json.loads(completed.stdout)["findings"])
