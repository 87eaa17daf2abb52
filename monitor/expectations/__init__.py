"""Expectations: what a user states a good answer looks like, in CEL, judged after the normalizer.

`program.py` compiles and evaluates (pure: no I/O, no clock); `judge.py` turns the outcome into
a verdict that can only be worse than the normalizer's, or says what healthy means where the
body states no health of its own.
"""

from __future__ import annotations

from monitor.expectations.program import VARIABLES, Expectation, compile_expression

# judge.py is not imported here: monitor.answer imports program.py (Expectation), and judge.py
# imports monitor.answer, so loading it with the package would be an import cycle.
__all__ = ["VARIABLES", "Expectation", "compile_expression"]
