"""The registered twins, so tests take their URL prefixes from the registry."""

from django.urls import reverse

from topics.pairs import PAIRS
from topics.registry import Pair, Twin
from topics.urls import app_name

PAIRS_BY_NAME: dict[str, Pair] = {pair.name: pair for pair in PAIRS}


def twins(pair_name: str, *, variants: bool = True) -> list[Twin]:
    """A registered pair's twins in Pair.twins() order: sync, async, then each
    variant, unless variants=False. Raises KeyError for a name not registered."""
    return [
        twin
        for twin in PAIRS_BY_NAME[pair_name].twins()
        if variants or twin.prefix == twin.mode
    ]


def prefixes(pair_name: str, *, variants: bool = True) -> list[str]:
    """The URL prefixes of twins(): "sync", "async", then the variants' such as
    "async-native". A test loops over them, one subTest per twin, so a new
    variant is tested wherever its pair is."""
    return [twin.prefix for twin in twins(pair_name, variants=variants)]


def urls(pair_name: str, *, variants: bool = True, **kwargs: str) -> list[str]:
    """Each twin's URL, reversed from its URL name; kwargs fill the route's
    parameters (slug="topic-1")."""
    return [
        reverse(f"{app_name}:{twin.view_name}", kwargs=kwargs or None)
        for twin in twins(pair_name, variants=variants)
    ]
