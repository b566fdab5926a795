"""The ``gateway`` command line (typer): admin commands, ``serve`` and the ``demo``.

:mod:`cli.app` is the root (``main`` is the script's entry point); each command group
lives in its own module (:mod:`cli.companies`, :mod:`cli.keys`, :mod:`cli.db`,
:mod:`cli.serve`, :mod:`cli.demo`), shared helpers in :mod:`cli.common` and
:mod:`cli.output`::

    $ gateway keys issue --company "Acme Learning" --json
"""

__all__: list[str] = []
