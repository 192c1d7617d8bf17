from django.core.cache import cache

SECRET_KEY = "x"
DEBUG = False
FEATURE_FLAGS = cache.get("feature-flags", {})  # planted: code.startup-query (warning)
