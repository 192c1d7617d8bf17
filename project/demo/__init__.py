"""The demo harness: the index page, the pitfall pages, demo data and the fake upstream.

Not a pattern to copy: it exists to run and compare the patterns in `topics`.
"""
