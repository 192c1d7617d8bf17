"""The shape of a catalogue entry."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Pitfall:
    """One way a migration goes wrong: the wrong snippet, its fix, the proof."""

    number: int
    slug: str
    title: str
    symptom: str  # the exact message, or what one observes
    fix: str  # one line
    wrong: Callable  # the minimal wrong snippet
    right: Callable  # its right twin
    test: str  # "tests/pitfalls/test_x.py::Class::test_name", proving both
    # A view that runs the wrong snippet, so that a learner sees the real
    # traceback; served under /pitfalls/<slug>/ only while DEBUG is on.
    demo: Callable | None = None
    versions: str = ""  # how Django 5.2 and 6.1 differ here, if they do
