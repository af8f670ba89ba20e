"""The examples in nerve's docstrings run and print what they show.

Each module's doctests run with ``np`` and ``nv`` in scope; examples marked
``# doctest: +SKIP`` (those needing data, files or a trained model) are skipped by
doctest itself. A module without examples counts as passing with nothing to check, so
the last test makes sure the examples are found at all.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import nerve

MODULES = sorted(info.name for info in pkgutil.walk_packages(nerve.__path__, "nerve."))


def _run(name: str) -> doctest.TestResults:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs={"np": np, "nv": nerve, **vars(module)}):
        runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("name", [m for m in MODULES if m != "nerve.__main__"])
def test_docstring_examples_run(name):
    try:
        results = _run(name)
    except ModuleNotFoundError as exc:  # an optional extra that this install lacks
        if (exc.name or "nerve").startswith("nerve"):
            raise
        pytest.skip(f"{name} needs an optional extra: {exc}")
    assert results.failed == 0, f"{results.failed} docstring example(s) of {name} failed"


def test_examples_are_found():
    attempted = sum(_run(name).attempted for name in ("nerve.nn.parameter", "nerve.tensor"))
    assert attempted >= 3
