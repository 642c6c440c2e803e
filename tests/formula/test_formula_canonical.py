"""Stored form: references by id, rendering with current names, renames, deleted fields."""
from __future__ import annotations

import pytest

from cardbase.formula import (DictResolver, FormulaError, Ref, compile_formula, dependencies,
                              load_canonical, render)

from formula_testlib import D, RESOLVER, compile_

BEFORE = DictResolver({
    "Unit price": Ref("1", "number"), "unit_price": Ref("1", "number"),
    "Quantity": Ref("2", "number"),
    ("Organisation", "City"): Ref("5.7", "text"),
    ("Order lines", "Cost"): Ref("8.9", "number", many=True),
})
# The same fields after the power user renamed "Unit price", "Organisation" and "City".
AFTER = DictResolver({
    "Net price": Ref("1", "number"), "unit_price": Ref("1", "number"),
    "Quantity": Ref("2", "number"),
    ("Company", "Town"): Ref("5.7", "text"),
    ("Order lines", "Cost"): Ref("8.9", "number", many=True),
})


def test_canonical_replaces_references_by_ids_and_keeps_the_rest():
    f = compile_formula('=[Unit price]  *  quantity & " in " & [Organisation].[City]', BEFORE)
    assert f.canonical == '={#1}  *  {#2} & " in " & {#5.7}'
    assert f.references == frozenset({"1", "2", "5.7"})
    assert f.refs["5.7"] == Ref("5.7", "text")


def test_references_inside_text_are_not_touched():
    f = compile_formula('"[Unit price] {#1}" & [Unit price]', BEFORE)
    assert f.canonical == '"[Unit price] {#1}" & {#1}'
    assert dependencies(f.canonical) == {"1"}
    assert render(f.canonical, AFTER) == '"[Unit price] {#1}" & [Net price]'


def test_render_shows_new_names_after_a_rename():
    f = compile_formula("ROUND(unit_price * [Quantity], 2) & [Organisation].[City] & SUM([Order lines].[Cost])", BEFORE)
    shown = render(f.canonical, AFTER)
    assert shown == "ROUND([Net price] * [Quantity], 2) & [Company].[Town] & SUM([Order lines].[Cost])"
    assert f.render(AFTER) == shown
    # the rendered text compiles again, to the same stored form
    assert compile_formula(shown, AFTER).canonical == f.canonical


def test_renamed_formula_keeps_working():
    f = compile_formula("[Unit price] * [Quantity]", BEFORE)
    loaded = load_canonical(f.canonical, AFTER)
    assert loaded.result_type == "number"
    assert loaded.evaluate({"1": D("1.5"), "2": 2}) == D("3.0")


def test_load_canonical_is_cached_per_text_and_types():
    f = compile_formula("[Unit price] * 2", BEFORE)
    assert load_canonical(f.canonical, BEFORE) is load_canonical(f.canonical, AFTER)
    retyped = DictResolver({"Unit price": Ref("1", "text")})
    with pytest.raises(FormulaError) as info:  # the field became text: the formula is now wrong
        load_canonical(f.canonical, retyped)
    e = info.value
    assert e.message == "text where a number is needed"
    assert e.text == "[Unit price] * 2" and e.position == 0  # shown in the display text


def test_load_canonical_reports_a_deleted_field_in_display_text():
    f = compile_formula("ROUND([Unit price], 2) + [Quantity]", BEFORE)
    gone = DictResolver({"Unit price": Ref("1", "number")})
    with pytest.raises(FormulaError) as info:
        load_canonical(f.canonical, gone)
    e = info.value
    assert "({#2}) was deleted" in e.message
    assert e.text == "ROUND([Unit price], 2) + {#2}"
    assert e.text[e.position:] == "{#2}"
    assert render(f.canonical, gone) == "ROUND([Unit price], 2) + {#2}"  # render never fails


def test_error_positions_map_through_longer_names():
    f = compile_formula("[Organisation].[City] & 1 & [Unit price]", BEFORE)
    retyped = DictResolver({("Organisation", "City"): Ref("5.7", "text"),
                            "A very long new name for the price": Ref("1", "number")})
    g = compile_formula("[Unit price] + [Quantity]", BEFORE)
    with pytest.raises(FormulaError) as info:
        load_canonical(g.canonical, DictResolver({"A long new price name": Ref("1", "number"),
                                                  "Count of things": Ref("2", "text")}))
    e = info.value
    assert e.text == "[A long new price name] + [Count of things]"
    assert e.text[e.position:] == "[Count of things]"
    assert load_canonical(f.canonical, retyped).evaluate({"5.7": "X", "1": 2}) == "X12"


def test_list_errors_show_names_not_ids():
    f = compile_formula("SUM([Order lines].[Cost]) + 1", BEFORE)
    changed = DictResolver({("Order lines", "Cost"): Ref("8.9", "number", many=True)})
    bad = f.canonical.replace("SUM(", "(")
    with pytest.raises(FormulaError) as info:
        load_canonical(bad, changed)
    assert info.value.message.startswith("[Order lines].[Cost] is a list of numbers")


def test_user_text_may_use_stored_tokens():
    f = compile_formula("{#1} + 1", BEFORE)
    assert f.canonical == "{#1} + 1" and f.render(AFTER) == "[Net price] + 1"


def test_canonical_with_names_is_refused():
    with pytest.raises(FormulaError):
        load_canonical("[Unit price] * 2", BEFORE)
    with pytest.raises(FormulaError):
        load_canonical("{#1} +", BEFORE)


def test_dependencies_of_stored_text():
    f = compile_("[Unit price] * [Quantity] + SUM([Order lines].[Cost]) + [Unit price]")
    assert dependencies(f.canonical) == {"1", "2", "40.3"}
    assert dependencies("1 + 2") == set()
    with pytest.raises(FormulaError):
        dependencies('"unclosed')


def test_names_with_brackets_round_trip():
    f = compile_("[Name]]x] & \"!\"")
    assert f.canonical == '{#10} & "!"'
    assert render(f.canonical, RESOLVER) == '[Name]]x] & "!"'


def test_resolver_reason_is_shown():
    class Strict(DictResolver):
        def resolve(self, path):
            if list(path) == ["Secret"]:
                raise LookupError("you may not read Secret")
            return super().resolve(path)

    with pytest.raises(FormulaError) as info:
        compile_formula("[Secret] + 1", Strict({}))
    assert info.value.message == "unknown field [Secret]: you may not read Secret"


def test_unknown_link_path():
    with pytest.raises(FormulaError) as info:
        compile_formula("[Organisation].[Cty]", BEFORE)
    assert info.value.message == "unknown field [Organisation].[Cty]" and info.value.position == 0


def test_dict_resolver_is_case_and_space_insensitive():
    assert compile_formula("[unit   PRICE] + UNIT_PRICE", BEFORE).canonical == "{#1} + {#1}"
    assert BEFORE.name_of("5.7") == ("Organisation", "City")
    assert DictResolver({"a": Ref("1", "number")}, display={"1": "Alpha"}).name_of("1") == ("Alpha",)


def test_resolver_returning_garbage_is_a_programming_error():
    class Bad:
        def resolve(self, path):
            return Ref("not a key!", "number")

        def resolve_key(self, key):
            raise KeyError(key)

        def name_of(self, key):
            raise KeyError(key)

    with pytest.raises(ValueError):
        compile_formula("[X]", Bad())
