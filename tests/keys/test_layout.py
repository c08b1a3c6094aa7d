"""The modules of ``keys`` import one another in one direction only: no circle (``keys.ca``
and ``keys.imports`` once imported each other; ``keys.chains`` now serves both)."""

from __future__ import annotations

import itertools

import grimp


def test_no_module_of_keys_imports_itself_back() -> None:
    graph = grimp.build_graph("keys", "certify")
    modules = sorted(m for m in graph.modules if m.startswith("keys."))
    circles = [
        (a, b)
        for a, b in itertools.combinations(modules, 2)
        if graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)
    ]
    assert circles == []
