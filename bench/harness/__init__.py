"""The pieces of ``python -m bench``: processes, wrk, scenarios, the ledger probe, the report.

``bench/__main__.py`` puts them together; each module can be used on its own::

    from bench.harness.scenarios import SCENARIOS
    print([scenario.name for scenario in SCENARIOS])
"""

__all__: list[str] = []
