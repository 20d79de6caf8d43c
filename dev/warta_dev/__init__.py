"""Warta's development and test tooling: the dev stack of `make run` (the product's
embedded stack plus the sandbox channels), the production topology without Docker, and
the sandbox stand-ins of the publishing channels.

Installed by `make install` only, never into the production image: the product package
``warta`` imports nothing from here (tests/unit/test_import_graph.py).
"""
