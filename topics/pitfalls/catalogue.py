"""Every pitfall, in catalogue order."""

from topics.pitfalls import aio, deploy, loops, m2m, orm, tasks
from topics.pitfalls.registry import Pitfall

PITFALLS: list[Pitfall] = sorted(
    [
        *orm.PITFALLS,
        *aio.PITFALLS,
        *tasks.PITFALLS,
        *deploy.PITFALLS,
        *loops.PITFALLS,
        *m2m.PITFALLS,
    ],
    key=lambda pitfall: pitfall.number,
)
