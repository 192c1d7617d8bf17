"""The bench's settings with Django's seven default middleware (what
startproject writes) and ours: the stack the project had before topics.hopfree."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "project.bench.urls"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "topics.middleware.DatabaseUnavailableMiddleware",
    # The demo's: the fake upstream's scenario (?delay=...) the bench asks for.
    "project.demo.scenario.ScenarioMiddleware",
]
