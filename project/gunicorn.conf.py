"""gunicorn: several uvicorn workers, to use more than one core (or one machine).

    gunicorn -c project/gunicorn.conf.py project.asgi:application

Each worker is one process with its own event loop, thread pool, aiohttp
session and database pool: the server opens up to
DATABASE_POOL_MAX_SIZE x WEB_CONCURRENCY PostgreSQL connections.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# One worker per core: each runs an event loop, so two per core buy nothing.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
# uvicorn_worker.UvicornWorker, serving with limits on the request head.
worker_class = "project.serve.UvicornWorker"
# A worker silent this long (its loop blocked) is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# After SIGTERM, requests in flight get this long to finish: uvicorn cancels
# them 5 s before, so that the lifespan shutdown runs before gunicorn kills.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Idle keep-alive connections, in seconds; keep it below the proxy's.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Restart workers now and then, staggered, so a slow leak never grows for long.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# Behind a proxy, the addresses allowed to set X-Forwarded-* (uvicorn reads them).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# gunicorn 25+ opens a control socket at one path per user ($HOME/.gunicorn/
# gunicorn.ctl): a second server on the host takes it over, and deletes it when
# it stops. Off, unless GUNICORN_CONTROL_SOCKET names a path for this server.
if control_socket_path := os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = control_socket_path
else:
    control_socket_disable = True
