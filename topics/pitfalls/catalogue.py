"""Every pitfall, in catalogue order."""

from topics.pitfalls import (
    aio,
    cbv,
    deploy,
    helpers,
    httperrors,
    layout,
    loops,
    m2m,
    orm,
    servers,
    signals,
    startup,
    tasks,
)
from topics.pitfalls.registry import Pitfall

PITFALLS: list[Pitfall] = sorted(
    [
        *orm.PITFALLS,
        *aio.PITFALLS,
        *tasks.PITFALLS,
        *deploy.PITFALLS,
        *loops.PITFALLS,
        *cbv.PITFALLS,
        *helpers.PITFALLS,
        *httperrors.PITFALLS,
        *layout.PITFALLS,
        *m2m.PITFALLS,
        *servers.PITFALLS,
        *signals.PITFALLS,
        *startup.PITFALLS,
    ],
    key=lambda pitfall: pitfall.number,
)
