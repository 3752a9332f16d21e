"""Benchmarks of Co-op CRM at large scale (`make bench`; see the README's "Performance").

Not tests: they print figures. Run them after `manage.py seed_demo --scale large` against
the same `DATABASE_URL`; `benchmarks/RESULTS.md` keeps the latest table.
"""
