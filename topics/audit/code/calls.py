"""Calls followed out of async code into the project's own sync functions.

Each module's scan keeps, besides its findings, a summary of every sync function
and method it defines (module level, or a method of a module-level class): what
its body does that would block or break on the event loop (the same checks as
in async code, kept as effects, not findings) and which functions of the project
it calls. Async code's plain calls (not awaited, not handed to sync_to_async) are
kept as call sites. Once every module is scanned, `resolve()` follows each call
site through the summaries, a few calls deep, and reports the first effect it
reaches at the call site, with the chain: `tag() → request.user`.
"""

import ast
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from topics.audit.code.rules import AREA
from topics.audit.findings import Finding

# How many sync calls deep a call site is followed: view → service → helper.
DEPTH = 4
_RANK = {"error": 0, "warning": 1}
# Each step of a chain taken only under a condition (an if, an except) lowers
# the level once: an effect two conditions away is a hint.
_LOWER = {"error": "warning", "warning": "info", "info": ""}


@dataclass(frozen=True)
class Effect:
    """Something a sync function's body does that breaks or blocks on the loop."""

    level: str
    code: str
    message: str  # as the check words it, "... in def tag()."
    fix: str
    what: str  # the expression, as written: request.user, time.sleep(...)
    line: int
    conditional: bool = False  # under an if (or except, or `and`/`or`) there


@dataclass
class Summary:
    """One sync function of a module: its effects, and the calls it makes."""

    effects: list[Effect] = field(default_factory=list)
    # Their targets, and whether each is made only under a condition.
    calls: list[tuple[str, bool]] = field(default_factory=list)
    returns_lazy: str = ""  # a lazy QuerySet it returns, as written
    self_reads: set[str] = field(default_factory=set)  # self.<name> it reads


@dataclass(frozen=True)
class CallSite:
    """A plain call in async code to what may be one of the project's functions."""

    target: str  # "module:function" or "module:Class.method"
    written: str  # tag(), self.tag(...)
    line: int
    column: int
    where: str  # in async def view()


@dataclass(frozen=True)
class RelationRead:
    """`obj.relation` read in async code, obj loaded there from `model`'s
    manager without select_related() of it."""

    model: str  # "module:Class"
    attribute: str
    written: str  # book.author
    model_written: str  # Book
    line: int
    column: int
    where: str
    # The relations the load selected (None: perhaps all of them), for a
    # method of the model that reads one.
    selected: frozenset[str] | None = frozenset()
    method: bool = False  # `attribute` is a method called: __str__, label()


@dataclass
class ModuleCalls:
    """What a module's scan keeps for the call following."""

    module: str  # its dotted name
    path: str  # as findings locate it
    summaries: dict[str, Summary] = field(default_factory=dict)  # qualname ->
    classes: dict[str, list[str]] = field(default_factory=dict)  # name -> bases
    sites: list[CallSite] = field(default_factory=list)
    # Functions handed to sync_to_async() in async code: one that returns a
    # lazy QuerySet hands its query back to the loop.
    threaded: list[CallSite] = field(default_factory=list)
    # Class name -> the names of its forward relations (ForeignKey, OneToOne).
    relations: dict[str, list[str]] = field(default_factory=dict)
    reads: list[RelationRead] = field(default_factory=list)
    # A project's signal sent the sync way in async code, reported only where
    # the project connects a receiver to it: (the signal, the finding).
    sends: list[tuple[str, Finding]] = field(default_factory=list)
    receivers: set[str] = field(default_factory=set)  # signals connected to
    # A task made of another module's coroutine, reported unless that
    # coroutine never pauses: (its function, the finding).
    tasks: list[tuple[str, Finding]] = field(default_factory=list)
    never_pause: set[str] = field(default_factory=set)  # async defs, no await


def module_name(path: Path) -> str:
    """The dotted name Python imports a file by: up its folders while they are
    packages (hold an __init__.py)."""
    path = path.resolve() if path.is_absolute() else path
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name:
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts)) or path.stem


def absolute_import(module: str, is_package: bool, level: int, name: str) -> str:
    """`from <level dots><name> import ...` in `module`, as an absolute name."""
    if level == 0:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


# What a call reaches: the effect, the functions called on the way (the first
# one's name first), and the path of the file the effect is in.
Reached = tuple[Effect, list[str], str]


class Resolver:
    """Call sites followed through the summaries of every module scanned."""

    def __init__(self, modules: Iterable[ModuleCalls]) -> None:
        self.modules = list(modules)
        self.summaries: dict[str, tuple[Summary, str]] = {}  # target -> (, path)
        self.classes: dict[str, list[str]] = {}
        # Modules by the last part of their name, for a name written shorter
        # or longer than the one the scan gave them.
        self.by_last: dict[str, list[str]] = {}
        for calls in self.modules:
            for qualname, summary in calls.summaries.items():
                self.summaries[f"{calls.module}:{qualname}"] = (summary, calls.path)
            for name, bases in calls.classes.items():
                self.classes[f"{calls.module}:{name}"] = bases
            last = calls.module.rpartition(".")[2]
            self.by_last.setdefault(last, []).append(calls.module)
        self.names = {calls.module for calls in self.modules}
        self.relations = {
            f"{calls.module}:{name}": fields
            for calls in self.modules
            for name, fields in calls.relations.items()
        }
        self._keys: dict[str, str | None] = {}
        self._found: dict[tuple[str, int], Reached | None] = {}

    def findings(self) -> dict[str, list[Finding]]:
        """Path -> the findings at its call sites."""
        found: dict[str, list[Finding]] = {}
        for calls in self.modules:
            for site in calls.sites:
                finding = self._finding(calls.path, site)
                if finding is not None:
                    found.setdefault(calls.path, []).append(finding)
            for site in calls.threaded:
                key = self._lookup(site.target)
                lazy = self.summaries[key][0].returns_lazy if key else ""
                if lazy:
                    found.setdefault(calls.path, []).append(
                        _lazy_result(calls.path, site, lazy)
                    )
            for coroutine, finding in calls.tasks:
                if self._canonical(coroutine) not in self._never_pause:
                    found.setdefault(calls.path, []).append(finding)
            for signal, finding in calls.sends:
                if self._canonical(signal) in self._connected:
                    found.setdefault(calls.path, []).append(finding)
            for read in calls.reads:
                if read.method:
                    finding = self._formatted(calls.path, read, read.attribute)
                elif self._is_relation(read.model, read.attribute, 0):
                    finding = _relation(calls.path, read)
                else:  # a property of the model that reads a relation
                    finding = self._formatted(calls.path, read, read.attribute)
                if finding is not None:
                    found.setdefault(calls.path, []).append(finding)
        return found

    @cached_property
    def _connected(self) -> set[str]:
        return {
            self._canonical(signal)
            for calls in self.modules
            for signal in calls.receivers
        }

    @cached_property
    def _never_pause(self) -> set[str]:
        return {
            f"{calls.module}:{name}"
            for calls in self.modules
            for name in calls.never_pause
        }

    def _canonical(self, target: str) -> str:
        """A "module:name" with the module as this scan names it."""
        module, _, name = target.partition(":")
        if module in self.names:
            return target
        for known in self.by_last.get(module.rpartition(".")[2], []):
            if known.endswith(f".{module}") or module.endswith(f".{known}"):
                return f"{known}:{name}"
        return target

    def _formatted(self, path: str, read: RelationRead, method: str) -> Finding | None:
        """str(obj), obj.label(), obj.author_name: a method (or property) of its
        model reads a relation the load did not select."""
        if read.selected is None:
            return None
        key = self._lookup(f"{read.model}.{method}")
        if key is None:
            return None
        reads = sorted(self.summaries[key][0].self_reads - read.selected)
        relation = next((r for r in reads if self._is_relation(read.model, r, 0)), None)
        if relation is None:
            return None
        return Finding(
            level="error",
            code="code.sync-orm",
            area=AREA,
            location=f"{path}:{read.line}",
            message=(
                f"{read.written} calls {read.model_written}.{method}(), which reads "
                f"self.{relation}: a sync query {read.where}, as "
                f"{read.model_written} is loaded here without "
                f"select_related({relation!r})."
            ),
            fix=f"Add .select_related({relation!r}) to the query that loads it.",
            column=read.column,
        )

    def _is_relation(self, model: str, attribute: str, depth: int) -> bool:
        """`attribute` is a forward relation of `model` or of a base of it."""
        key = self._class_key(model)
        if key is None or depth > DEPTH:
            return False
        if attribute in self.relations.get(key, []):
            return True
        return any(
            self._is_relation(base, attribute, depth + 1)
            for base in self.classes.get(key, [])
        )

    def _class_key(self, target: str) -> str | None:
        if target in self.classes:
            return target
        module, _, name = target.partition(":")
        for known in self.by_last.get(module.rpartition(".")[2], []):
            named = known.endswith(f".{module}") or module.endswith(f".{known}")
            if named and f"{known}:{name}" in self.classes:
                return f"{known}:{name}"
        return None

    def _finding(self, path: str, site: CallSite) -> Finding | None:
        reached = self._follow(site.target)
        if reached is None:
            return None
        effect, chain, where = reached
        steps = " → ".join(
            [
                *chain,
                effect.what,
            ]
        )
        return Finding(
            level=effect.level,
            code=effect.code,
            area=AREA,
            location=f"{path}:{site.line}",
            message=(
                f"{site.written} is sync code called on the event loop {site.where}"
                f" ({steps}): {effect.message.rstrip('.')} ({where}:{effect.line})."
            ),
            fix=(
                f"Await sync_to_async({site.written.split('(')[0]})(...) for the "
                f"whole unit of work, or make it async: {effect.fix}"
            ),
            column=site.column,
        )

    def _lookup(self, target: str) -> str | None:
        """The summary key `target` stands for: itself, a method found on a base
        class, or a module named by the end of its dotted name."""
        if target not in self._keys:
            self._keys[target] = None  # a class that is its own base
            self._keys[target] = self._find(target)
        return self._keys[target]

    def _find(self, target: str) -> str | None:
        if target in self.summaries:
            return target
        module, _, qualname = target.partition(":")
        if "." in qualname:  # Class.method: look on its bases
            klass, _, method = qualname.rpartition(".")
            for base in self.classes.get(f"{module}:{klass}", []):
                key = self._lookup(f"{base}.{method}")
                if key is not None:
                    return key
            return None
        owner, _, klass = module.rpartition(".")
        if owner and f"{owner}:{klass}" in self.classes:
            return self._lookup(f"{owner}:{klass}.{qualname}")  # Class.method()
        if module not in self.names:
            # `from app import services` then services.f(): a submodule; or a
            # project scanned from inside its package, named by a shorter path.
            for name in self.by_last.get(module.rpartition(".")[2], []):
                if name.endswith(f".{module}") or module.endswith(f".{name}"):
                    key = f"{name}:{qualname}"
                    if key in self.summaries:
                        return key
        return None

    def _follow(self, target: str, depth: int = DEPTH) -> Reached | None:
        """The worst effect `target` reaches within `depth` calls (errors first,
        then the shortest chain), at the level it has once lowered for each
        conditional step, the chain of calls to it, and the path of the file
        it is in."""
        key = self._lookup(target)
        if key is None or depth == 0:
            return None
        if (key, depth) in self._found:
            return self._found[key, depth]
        self._found[key, depth] = None  # a call back into itself adds nothing
        summary, path = self.summaries[key]
        best: Reached | None = None
        name = key.rpartition(":")[2].rpartition(".")[2] + "()"
        for effect in summary.effects:
            if effect.conditional:
                effect = _lowered(effect)
            if effect.level and (best is None or _better(effect, 1, best)):
                best = (effect, [name], path)
        for callee, conditional in dict.fromkeys(summary.calls):
            reached = self._follow(callee, depth - 1)
            if reached is not None:
                effect, chain, where = reached
                if conditional:
                    effect = _lowered(effect)
                if effect.level and (
                    best is None or _better(effect, len(chain) + 1, best)
                ):
                    best = (effect, [name, *chain], where)
        self._found[key, depth] = best
        return best


def _lowered(effect: Effect) -> Effect:
    return dataclasses.replace(effect, level=_LOWER[effect.level])


def _lazy_result(path: str, site: CallSite, lazy: str) -> Finding:
    return Finding(
        level="warning",
        code="code.sync-orm",
        area=AREA,
        location=f"{path}:{site.line}",
        message=(
            f"{site.written} returns the lazy {lazy}: no query runs in the "
            f"thread; it runs where the QuerySet is evaluated, on the loop, "
            f"{site.where}."
        ),
        fix=(
            "Evaluate it inside the function (list(...), or the values you need), "
            "or drop sync_to_async and iterate it with async for."
        ),
        column=site.column,
    )


def _relation(path: str, read: RelationRead) -> Finding:
    return Finding(
        level="error",
        code="code.sync-orm",
        area=AREA,
        location=f"{path}:{read.line}",
        message=(
            f"{read.written} loads the related {read.attribute} with a sync query "
            f"{read.where}: {read.model_written} is loaded here without "
            f"select_related({read.attribute!r}), so it raises "
            "SynchronousOnlyOperation (unless the key is null)."
        ),
        fix=(
            f"Add .select_related({read.attribute!r}) to the query that loads it, "
            f"or read {read.attribute}_id if the key is all you need."
        ),
        column=read.column,
    )


def _better(effect: Effect, length: int, best: Reached) -> bool:
    """`effect`, reached through `length` calls, is worse news than `best`."""
    known, chain, _ = best
    return (_RANK.get(effect.level, 2), length) < (
        _RANK.get(known.level, 2),
        len(chain),
    )


def call_target(
    func: ast.expr,
    *,
    module: str,
    is_package: bool,
    imports: dict[str, tuple[int, str, str]],
    module_defs: frozenset[str],
    klass: str | None,
) -> str | None:
    """The "module:qualname" a call's function names in the project, or None.

    `imports`: local name -> (level, module, name) of a `from` import, or
    (0, module, "") of `import module as name`.
    """
    match func:
        case ast.Name(id=name):
            if name in imports:
                level, source, imported = imports[name]
                if not imported:
                    return None  # a module called: not a function
                return (
                    f"{absolute_import(module, is_package, level, source)}:{imported}"
                )
            if name in module_defs:
                return f"{module}:{name}"
        case ast.Attribute(value=ast.Name(id="self" | "cls"), attr=attr) if klass:
            return f"{module}:{klass}.{attr}"
        case ast.Attribute(value=ast.Name(id=owner), attr=attr):
            if owner in imports:
                level, source, imported = imports[owner]
                base = absolute_import(module, is_package, level, source)
                # `from app import services`: services.f() is in app.services.
                target = f"{base}.{imported}" if imported else base
                return f"{target}:{attr}"
            if owner in module_defs and owner[:1].isupper():
                return f"{module}:{owner}.{attr}"  # Class.method()
    return None
