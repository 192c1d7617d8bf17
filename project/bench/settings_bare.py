"""The bench's settings with no middleware but the demo's scenario: Django's
bare request cost. The fan-out's ?delay= reaches the fake upstream only through
that middleware, which passes every other request straight on."""

from project.bench.settings_default import *  # noqa: F403

MIDDLEWARE: list[str] = ["project.demo.scenario.ScenarioMiddleware"]
