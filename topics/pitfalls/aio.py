"""Placeholder: filled by the pitfall catalogue work."""

from topics.pitfalls.registry import Pitfall

PITFALLS: list[Pitfall] = []
