"""cardbase.formula: the spreadsheet-like formula language of cardbase.

Pure Python (no Flask, no SQLAlchemy, no schema engine): the schema engine implements
``Resolver`` and calls in. Language reference: docs/formula.md.

    compiled = compile_formula("[Unit price] * [Quantity]", resolver)   # when saved
    compiled.result_type            # "number"
    compiled.canonical              # "{#12} * {#13}" - what the metadata stores
    compiled.references             # frozenset({"12", "13"})
    compiled.evaluate({"12": Decimal("2.50"), "13": 4})   # Decimal("10.00")
    load_canonical(stored, resolver)     # stored form -> CompiledFormula (cached)
    render(stored, resolver)             # stored form -> text with current names
"""
from .canonical import dependencies, render
from .compiler import CompiledFormula, clear_cache, compile_formula, load_canonical
from .graph import DependencyGraph
from .errors import CycleError, FormulaError
from .functions import FUNCTIONS
from .limits import (MAX_ARGS, MAX_DEPTH, MAX_EXPONENT, MAX_FORMULA_LENGTH, MAX_NUMBER,
                     MAX_TEXT_LENGTH)
from .resolver import DictResolver, Ref, Resolver
from .valuetypes import ANY, BOOLEAN, DATE, DATETIME, NUMBER, TEXT, VALUE_TYPES, normalize_type

__all__ = [
    "compile_formula", "load_canonical", "render", "dependencies", "clear_cache",
    "CompiledFormula", "DependencyGraph", "FormulaError", "CycleError",
    "Ref", "Resolver", "DictResolver", "FUNCTIONS",
    "NUMBER", "TEXT", "DATE", "DATETIME", "BOOLEAN", "ANY", "VALUE_TYPES", "normalize_type",
    "MAX_FORMULA_LENGTH", "MAX_DEPTH", "MAX_ARGS", "MAX_EXPONENT", "MAX_NUMBER", "MAX_TEXT_LENGTH",
]
