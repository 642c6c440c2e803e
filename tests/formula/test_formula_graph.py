"""Dependency graph: cycles (incl. self-reference) are refused; recomputation order."""
from __future__ import annotations

import pytest

from cardbase.formula import CycleError, DependencyGraph, FormulaError, dependencies

from formula_testlib import compile_


def test_self_reference_is_a_cycle():
    g = DependencyGraph()
    g.add("A", ["A"])
    with pytest.raises(CycleError) as info:
        g.check_acyclic()
    assert info.value.cycle == ["A", "A"]
    assert str(info.value) == "circular reference: A -> A"
    assert isinstance(info.value, FormulaError)


def test_two_and_three_node_cycles_show_the_path():
    g = DependencyGraph()
    g.add("A", ["B"])
    g.add("B", ["A"])
    with pytest.raises(CycleError) as info:
        g.check_acyclic()
    assert info.value.message == "circular reference: A -> B -> A"

    g = DependencyGraph()
    g.add("Total", ["Cost"])
    g.add("Cost", ["Price", "Tax"])
    g.add("Tax", ["Total"])
    with pytest.raises(CycleError) as info:
        g.check_acyclic(label=lambda k: f"[{k}]")
    assert info.value.cycle == ["Total", "Cost", "Tax", "Total"]
    assert info.value.message == "circular reference: [Total] -> [Cost] -> [Tax] -> [Total]"
    with pytest.raises(CycleError):
        g.topological_order()


def test_acyclic_graph_and_topological_order():
    g = DependencyGraph()
    g.add("total", ["cost", "discount"])
    g.add("cost", ["price", "qty"])
    g.add("label", ["total"])
    g.check_acyclic()
    order = g.topological_order()
    for node in g.nodes():
        for dep in g.depends_on(node):
            assert order.index(dep) < order.index(node)
    assert order == ["discount", "price", "qty", "cost", "total", "label"]  # ties: insertion order


def test_order_of_a_subset_respects_hidden_dependencies():
    g = DependencyGraph()
    g.add("c", ["b"])
    g.add("b", ["a"])
    g.add("z", [])
    assert g.topological_order(["c", "a"]) == ["a", "c"]
    assert g.topological_order(["unknown", "c"]) == ["c", "unknown"]


def test_recompute_order_after_a_change():
    g = DependencyGraph()
    g.add("line.cost", ["line.price", "line.qty"])
    g.add("order.total", ["line.cost"])
    g.add("order.label", ["order.total", "order.name"])
    g.add("other", ["x"])
    assert g.affected_by(["line.price"]) == {"line.cost", "order.total", "order.label"}
    assert g.recompute_order(["line.price"]) == ["line.cost", "order.total", "order.label"]
    assert g.dependants("line.cost") == ["order.total"]
    assert g.recompute_order(["nothing"]) == []


def test_replace_and_remove():
    g = DependencyGraph()
    g.add("A", ["B"])
    g.add("B", ["C"])
    g.replace("C", ["A"])  # an edit that would close a circle
    with pytest.raises(CycleError):
        g.check_acyclic()
    g.replace("C", [])
    g.check_acyclic()
    g.remove("B")
    assert "B" not in g and g.depends_on("A") == []


def test_long_chains_do_not_recurse():
    g = DependencyGraph()
    for i in range(20_000):
        g.add(f"n{i + 1}", [f"n{i}"])
    assert g.topological_order()[:3] == ["n0", "n1", "n2"]
    g.add("n0", ["n20000"])
    with pytest.raises(CycleError) as info:
        g.check_acyclic()
    assert len(info.value.cycle) == 20_002


def test_graph_from_formulas():
    g = DependencyGraph()
    g.add("3", dependencies(compile_("[Unit price] * [Quantity]").canonical))
    g.add("1", dependencies(compile_("[Cost] / 2").canonical))
    with pytest.raises(CycleError) as info:
        g.check_acyclic()
    assert info.value.cycle in (["3", "1", "3"], ["1", "3", "1"])
