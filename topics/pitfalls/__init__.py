"""The pitfall catalogue: every way a migration goes wrong, reproduced.

Each module here holds, per pitfall, a minimal wrong snippet and its right
twin; tests/pitfalls/ proves both. The wrong snippets are never wired into the
app, except as DEBUG-only demonstration pages under /pitfalls/<slug>/.
"""
