"""Twins all the way down: every helper pair `<name>` / `a<name>` has one signature.

The system checks hold the views to this; here every public pair of callables
defined in a module of the patterns app is held to it too: functions, classes,
and the methods of the classes defined there. Parameter names, kinds and
defaults must be equal. Annotations must be equal once each async form is read
as its sync one, which leaves only the difference in I/O:
- an awaited `Awaitable[T]` or `Coroutine[..., T]` is `T`; a twin that returns
  its result from `async def` has the sync twin's annotation;
- an async iterator (AsyncIterator, AsyncIterable, AsyncGenerator) is the
  iterator of the same items (Iterator, Iterable, Generator):
  `stream_rows() -> Generator[bytes, None, None]` and
  `astream_rows() -> AsyncIterator[bytes]` agree;
- the I/O library's own handle is each side's: a requests.Session and an
  aiohttp.ClientSession are both "the session";
- any HttpResponse class is a response: an async twin streams where its sync
  twin sends a FileResponse, and the parity tests compare the bytes.
"""

import collections.abc
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator
from types import ModuleType

from django.http import HttpResponseBase
from django.test import SimpleTestCase

import topics

# The tools that share the package, and the generated migrations.
SKIPPED_PACKAGES = (
    "topics.audit",
    "project.bench",
    "topics.hopfree",
    "topics.migrations",
)

# Deliberate differences, each with its reason: "module.name": "why". None today.
EXCEPTIONS: dict[str, str] = {}

ITERATORS = {
    collections.abc.AsyncIterator: "iterator",
    collections.abc.AsyncIterable: "iterator",
    collections.abc.AsyncGenerator: "iterator",
    collections.abc.Iterator: "iterator",
    collections.abc.Iterable: "iterator",
    collections.abc.Generator: "iterator",
}
AWAITABLES = (collections.abc.Awaitable, collections.abc.Coroutine)
# The I/O libraries whose types the sync and async twins use in turn.
IO_LIBRARIES = {"requests", "aiohttp", "aiofiles", "httpx", "urllib3"}


def pattern_modules() -> Iterator[ModuleType]:
    """Every module of the patterns app, the tools aside."""
    for info in pkgutil.walk_packages(topics.__path__, prefix="topics."):
        if not info.name.startswith(SKIPPED_PACKAGES):
            yield importlib.import_module(info.name)


def shape(annotation: object) -> object:
    """An annotation with each async form read as its sync one."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in AWAITABLES:
        return shape(args[-1])
    if origin in ITERATORS:
        # The items only: Generator's send and return types have no async twin.
        return ("iterator", shape(args[0]) if args else None)
    if args:
        return (origin, tuple(shape(arg) for arg in args))
    if inspect.isclass(annotation):
        if annotation.__module__.partition(".")[0] in IO_LIBRARIES:
            return "an I/O library's handle"
        if issubclass(annotation, HttpResponseBase):
            return HttpResponseBase
    return annotation


def signature(function: Callable) -> tuple:
    """What two twins must share: each parameter's name, kind, default and
    annotation shape, and the return annotation's shape."""
    try:
        sig = inspect.signature(function, eval_str=True)
    except NameError:  # an annotation named only under TYPE_CHECKING
        sig = inspect.signature(function)
    parameters = tuple(
        (p.name, p.kind, p.default, shape(p.annotation))
        for p in sig.parameters.values()
    )
    return parameters, shape(sig.return_annotation)


def callables(namespace: dict, owner: str) -> Iterator[tuple[str, Callable]]:
    """The public callables of a module or class namespace, with dotted names."""
    for name, value in namespace.items():
        if name.startswith("_"):
            continue
        function = (
            value.__func__ if isinstance(value, classmethod | staticmethod) else value
        )
        if callable(function):
            yield f"{owner}.{name}", function


def twin_pairs() -> Iterator[tuple[str, Callable, Callable]]:
    """(dotted async name, sync twin, async twin) for every pair defined here."""
    for module in pattern_modules():
        defined = {
            name: value
            for name, value in vars(module).items()
            if getattr(value, "__module__", None) == module.__name__
        }
        namespaces = [(module.__name__, defined)]
        namespaces += [
            (f"{module.__name__}.{name}", vars(value))
            for name, value in defined.items()
            if inspect.isclass(value)
        ]
        for owner, namespace in namespaces:
            found = dict(callables(namespace, owner))
            for dotted, function in found.items():
                owner_name, _, name = dotted.rpartition(".")
                sync = found.get(f"{owner_name}.{name[1:]}")
                if name.startswith("a") and sync is not None:
                    yield dotted, sync, function


class TwinSignatureTests(SimpleTestCase):
    def test_every_helper_twin_has_its_sync_twins_signature(self):
        """`a<name>` takes what `<name>` takes, with the same defaults."""
        pairs = list(twin_pairs())

        for dotted, sync, asynchronous in pairs:
            if dotted in EXCEPTIONS:
                continue
            with self.subTest(twin=dotted):
                self.assertEqual(signature(asynchronous), signature(sync))

    def test_the_exceptions_name_real_pairs(self):
        """An exception listed for a pair that is gone, or now agrees, is stale."""
        pairs = {dotted: (sync, a) for dotted, sync, a in twin_pairs()}

        for dotted in EXCEPTIONS:
            with self.subTest(twin=dotted):
                self.assertIn(dotted, pairs)
                self.assertNotEqual(
                    signature(pairs[dotted][1]), signature(pairs[dotted][0])
                )

    def test_the_pairs_are_found(self):
        """The walk sees helper twins, not only views: the test cannot pass empty."""
        names = {dotted for dotted, _, _ in twin_pairs()}

        self.assertIn("topics.exportfiles.awrite_export", names)
        self.assertIn("topics.pagination.apage_data", names)
        self.assertIn("topics.views.orm.atopic_list", names)
