"""Every pitfall, in catalogue order."""

from topics.pitfalls import (
    aio,
    auth,
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
    tasks_inline,
)
from topics.pitfalls.registry import Pitfall

PITFALLS: list[Pitfall] = sorted(
    [
        *orm.PITFALLS,
        *aio.PITFALLS,
        *auth.PITFALLS,
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
        *tasks_inline.PITFALLS,
    ],
    key=lambda pitfall: pitfall.number,
)
