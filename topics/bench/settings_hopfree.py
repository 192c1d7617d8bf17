"""The bench's settings with the hop-free drop-ins for Django's seven (the
project's own stack): the same classes as settings_default, one for one."""

from topics.bench.settings_default import *  # noqa: F403

MIDDLEWARE = [
    "topics.hopfree.SecurityMiddleware",
    "topics.hopfree.SessionMiddleware",
    "topics.hopfree.CommonMiddleware",
    "topics.hopfree.CsrfViewMiddleware",
    "topics.hopfree.AuthenticationMiddleware",
    "topics.hopfree.MessageMiddleware",
    "topics.hopfree.XFrameOptionsMiddleware",
    "topics.middleware.DatabaseUnavailableMiddleware",
]
