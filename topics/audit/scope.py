"""Which code is the project's own: the audit scans that, and says what it left out.

The project's own code is every Python package under BASE_DIR, and every file a
URL pattern routes to there, but for what a project tree holds that it does not
serve or did not write: virtualenvs, installed and vendored packages, node_modules,
build output, static and media files, and its tests.
"""

import contextlib
import functools
import inspect
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Folders that hold installed packages, not the project's own code.
NOT_OWN = frozenset({"site-packages", "dist-packages"})
VENDORED = frozenset(
    {"vendor", "vendored", "_vendor", "third_party", "third-party", "thirdparty"}
)
# Looked for packages in, as folders that are not packages themselves.
BUILD_OUTPUT = frozenset({"build", "dist"})
TEST_TREES = frozenset({"tests", "test"})
INSTALLED = "installed packages, not this project's code"
SILENT = frozenset({"__pycache__", "migrations"})


def project_root(settings: Any) -> Path:
    """BASE_DIR, as startproject sets it; the current folder without one (the
    audit runs from the project's root, as manage.py does)."""
    return Path(getattr(settings, "BASE_DIR", None) or os.getcwd()).resolve()


def not_own(folder: Path, base: Path) -> str:
    """Why code in `folder` is not the project's own; "" when it is."""
    if NOT_OWN & set(folder.parts):
        return INSTALLED
    if not folder.is_relative_to(base):
        return "outside BASE_DIR"
    here = base
    for part in folder.relative_to(base).parts:
        here = here / part
        if why := _not_code_of_ours(here):
            return why
        if part.startswith("."):
            return "a hidden folder"
    return ""


def _not_code_of_ours(folder: Path) -> str:
    name = folder.name
    if name in NOT_OWN:
        return INSTALLED
    # A virtualenv under any name carries pyvenv.cfg.
    if name.startswith((".venv", "venv")) or (folder / "pyvenv.cfg").is_file():
        return "a virtualenv"
    if name == "node_modules":
        return "node_modules"
    if name in VENDORED:
        return "vendored third-party code"
    return ""


def project_packages(
    base: Path, *, skip: Iterable[Path] = ()
) -> tuple[list[Path], list[dict[str, str]]]:
    """The outermost Python packages (folders with an __init__.py) under `base`,
    sorted; and the folders left out that may hold code, each as
    {"target": "path/", "reason": why}. Folders in `skip` (STATIC_ROOT, say)
    are left out silently.
    """
    skipped_roots = {Path(path).resolve() for path in skip}
    packages: list[Path] = []
    left_out: list[dict[str, str]] = []
    for folder, dirs, files in os.walk(base):
        here = Path(folder)
        if here != base and "__init__.py" in files:
            packages.append(here)
            dirs[:] = []
            continue
        kept = []
        for name in sorted(dirs):
            child = here / name
            if name.startswith(".") and not (child / "pyvenv.cfg").is_file():
                continue  # .git, .tox, caches: never code of this project's own
            if name in SILENT or child in skipped_roots:
                continue
            why = _not_code_of_ours(child) or _not_served(child)
            if why:
                shown = child.relative_to(base).as_posix()
                left_out.append({"target": f"{shown}/", "reason": why})
            else:
                kept.append(name)
        dirs[:] = kept
    return sorted(packages), left_out


def _not_served(folder: Path) -> str:
    if folder.name in TEST_TREES:
        return "tests, not served: give their path to python -m topics.audit"
    if folder.name in BUILD_OUTPUT and not (folder / "__init__.py").is_file():
        return "build output, a copy of the sources"
    return ""


def _defining(view: Any) -> Any:
    """What defines `view`'s code: the function behind a partial, a bound
    method or functools.wraps; `view` itself otherwise."""
    # Layers nest either way round: AdminSite.admin_view() wraps a bound
    # method in a function, a partial may hold a wrapper.
    for _ in range(16):
        unwrapped = view
        while isinstance(unwrapped, functools.partial):
            unwrapped = unwrapped.func
        if inspect.ismethod(unwrapped):
            unwrapped = unwrapped.__func__
        if inspect.isfunction(unwrapped):
            with contextlib.suppress(ValueError):  # a __wrapped__ cycle
                unwrapped = inspect.unwrap(unwrapped)
        if unwrapped is view:
            break
        view = unwrapped
    return view


def source_file(view: Any) -> Path | None:
    """The .py file that defines `view` (a function, a class, a method, a
    partial or a callable object), through functools.wraps; None if unknown."""
    view = _defining(view)
    if inspect.isfunction(view):
        return _existing(view.__code__.co_filename)
    if not inspect.isclass(view):
        view = type(view)
    try:
        found = inspect.getsourcefile(view)
    except (OSError, TypeError):  # builtins, and classes of no file (__main__)
        return None
    return _existing(found) if found else None


# Views share files: a project routes hundreds of views to a few dozen modules.
@functools.lru_cache(maxsize=4096)
def _existing(filename: str) -> Path | None:
    path = Path(filename)
    return path.resolve() if path.suffix == ".py" and path.is_file() else None


def routed_files(
    views: Iterable[Any], base: Path
) -> tuple[list[Path], list[dict[str, str]]]:
    """The project's own source files of `views`, sorted; and what was left out,
    each as {"target", "reason"}: installed packages once per top-level package,
    other files by path, views with no source file by dotted name.
    """
    files: set[Path] = set()
    installed: dict[str, int] = {}
    left_out: dict[str, str] = {}
    folder_not_own = functools.cache(functools.partial(not_own, base=base))
    for view in {id(view): view for view in views}.values():
        path = source_file(view)
        if path is None:
            name = f"{getattr(view, '__module__', '?')}.{_name(view)}"
            left_out[name] = "its source file cannot be located"
            continue
        why = folder_not_own(path.parent)
        if not why:
            files.add(path)
        elif why in (INSTALLED, "a virtualenv"):
            # The module of the code, not of a partial around it (functools).
            module = getattr(_defining(view), "__module__", None)
            top = (module or path.stem).split(".")[0]
            installed[top] = installed.get(top, 0) + 1
        else:
            left_out[path.as_posix()] = (
                f"{why}: not scanned (give its path to python -m topics.audit "
                "if it is yours)"
            )
    entries = [
        {
            "target": top,
            "reason": f"an installed package, not this project's code: {count} "
            f"routed view{'s' * (count != 1)}",
        }
        for top, count in sorted(installed.items())
    ]
    entries += [{"target": t, "reason": r} for t, r in sorted(left_out.items())]
    return sorted(files), entries


def _name(view: Any) -> str:
    return getattr(view, "__qualname__", None) or type(view).__qualname__
