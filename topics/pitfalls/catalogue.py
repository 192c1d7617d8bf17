"""Every pitfall, in catalogue order."""

from topics.pitfalls import aio, cbv, deploy, loops, orm, tasks
from topics.pitfalls.registry import Pitfall

PITFALLS: list[Pitfall] = sorted(
    [
        *orm.PITFALLS,
        *aio.PITFALLS,
        *tasks.PITFALLS,
        *deploy.PITFALLS,
        *loops.PITFALLS,
        *cbv.PITFALLS,
    ],
    key=lambda pitfall: pitfall.number,
)
