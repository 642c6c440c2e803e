"""Formula fields: computed on every save, checked when saved (errors with position),
stored by id (renames keep them working and show the new names), cycles refused."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import InUse, SchemaError
from cardbase.schema_engine.field_types.base import FieldContext
from cardbase.schema_engine.meta_models import FieldRow, HistoryEntry

from computed_fixture import add_revenue, d, order_book, raw_rows, value


def shown_formula(db, obj: str, field: str) -> str:
    schema = db.schema()
    o = schema.object(obj)
    f = o.field(field)
    return f.ftype.export_options(f.options, FieldContext(schema, o, f.id))["formula"]


def test_cost_is_price_times_quantity_on_create_and_update(db):
    _, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O1"})
    line = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "2.50", "quantity": 4})
    assert line["cost"] == d("10.00")
    line = store.update(SYSTEM, "order_line", line["id"], {"quantity": 5}, version=line["version"])
    assert line["cost"] == d("12.50") and line["version"] == 2
    line = store.update(SYSTEM, "order_line", line["id"], {"price": "0.10"}, version=2)
    assert line["cost"] == d("0.50")
    ids = store.bulk_create(SYSTEM, "order_line", [{"price": "1.25", "quantity": n} for n in range(1, 4)])
    assert [value(store, "order_line", i, "cost") for i in ids] == [d("1.25"), d("2.50"), d("3.75")]


def test_formula_fields_cannot_be_written(db):
    _, store = order_book(db)
    with pytest.raises(Exception) as err:
        store.create(SYSTEM, "order_line", {"price": "1", "quantity": 1, "cost": "99"})
    assert "calculated by the system" in str(err.value)


def test_stored_by_id_and_shown_with_names(db):
    order_book(db)
    schema = db.schema()
    line = schema.object("order_line")
    cost = line.field("cost")
    price, quantity = line.field("price").id, line.field("quantity").id
    assert cost.options["formula"] == f"{{#{price}}} * {{#{quantity}}}"
    assert cost.options["references"] == sorted([price, quantity])
    assert shown_formula(db, "order_line", "cost") == "[Price] * [Quantity]"


@pytest.mark.parametrize("formula,position,reason", [
    ("[Price] * [Product]", "line 1, column 11", "text where a number is needed"),
    ("[Prise] * 2", "line 1, column 1", "unknown field [Prise]"),
    ("ROUND([Price], 1, 2)", "line 1, column 19", "ROUND takes 1 or 2 arguments, got 3"),
    ("ROUND([Product])", "line 1, column 7", "ROUND: argument 1 is text where a number is needed"),
    ("[Price] *\n  [Order].[Nope]", "line 2, column 3", "unknown field [Order].[Nope]"),
])
def test_type_errors_at_save_name_position_and_reason(db, formula, position, reason):
    svc, _ = order_book(db)
    before = db.schema().object("order_line").user_fields
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "order_line", {"name": "x", "label": "X", "type": "formula",
                                            "options": {"formula": formula}})
    message = err.value.errors["options.formula"][0]
    assert position in message and reason in message
    assert [f.api_name for f in db.schema().object("order_line").user_fields] == [f.api_name for f in before]


def test_child_list_references_need_an_aggregate_and_work_inside_one(db):
    svc, store = order_book(db)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "order", {"name": "x", "label": "X", "type": "formula",
                                       "options": {"formula": "[Order lines].[Cost] + 1"}})
    assert "[Order lines].[Cost] is a list of numbers" in err.value.errors["options.formula"][0]
    svc.add_field(SYSTEM, "order", {"name": "lines", "label": "Lines", "type": "formula",
                                   "options": {"formula": "COUNT([Order lines].[Product])", "scale": 0}})
    svc.add_field(SYSTEM, "order", {"name": "gross", "label": "Gross", "type": "formula",
                                   "options": {"formula": "ROUND(SUM([Order lines].[Cost]) * 1.19, 2)"}})
    order = store.create(SYSTEM, "order", {"title": "O"})
    assert (order["lines"], order["gross"]) == (d("0"), d("0.00"))
    store.bulk_create(SYSTEM, "order_line", [{"order": order["id"], "product": "A", "price": "10", "quantity": 1},
                                             {"order": order["id"], "price": "5", "quantity": 2}])
    order = store.get(SYSTEM, "order", order["id"])
    assert (order["lines"], order["gross"]) == (d("1"), d("23.80"))


def test_results_of_every_type(db):
    svc, store = order_book(db)
    specs = {
        "label_text": '[Product] & " x " & [Quantity]',
        "big": "[Quantity] > 10",
        "due": "DATE(2024, 1, 31) + [Quantity]",
        "order_title": "UPPER([Order].[Title])",
        "third": "[Price] / 3",
    }
    for name, formula in specs.items():
        svc.add_field(SYSTEM, "order_line", {"name": name, "label": name.title(), "type": "formula",
                                            "options": {"formula": formula, **({"scale": 4} if name == "third" else {})}})
    order = store.create(SYSTEM, "order", {"title": "big deal"})
    line = store.create(SYSTEM, "order_line", {"order": order["id"], "product": "Bolt", "price": "1", "quantity": 12})
    assert line["label_text"] == "Bolt x 12"
    assert line["big"] is True
    assert line["due"] == date(2024, 2, 12)
    assert line["order_title"] == "BIG DEAL"
    assert line["third"] == d("0.3333")
    assert store.to_json("order_line", line)["third"] == "0.3333"


def test_runtime_errors_give_empty_and_never_abort_a_save(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "order_line", {"name": "unit", "label": "Unit", "type": "formula",
                                        "options": {"formula": "[Price] / [Quantity]"}})
    line = store.create(SYSTEM, "order_line", {"price": "10", "quantity": 0})
    assert line["unit"] is None and line["cost"] == d("0.00")
    line = store.create(SYSTEM, "order_line", {"price": "10"})  # empty operand
    assert line["unit"] is None and line["cost"] is None
    line = store.update(SYSTEM, "order_line", line["id"], {"quantity": 4}, version=1)
    assert line["unit"] == d("2.50")
    big = store.create(SYSTEM, "order_line", {"price": "9999999999", "quantity": 2**62})  # too big for the column
    assert big["cost"] is None


def test_renaming_fields_and_objects_keeps_formulas_working_with_new_names(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "order", {"name": "count_lines", "label": "Count lines", "type": "formula",
                                   "options": {"formula": "COUNT([Order lines].[Price])", "scale": 0}})
    svc.update_field(SYSTEM, "order_line", "price", {"name": "unit_price", "label": "Unit price"})
    svc.update_object(SYSTEM, "order_line", {"name": "position", "label": "Position", "label_plural": "Positions"})
    assert shown_formula(db, "position", "cost") == "[Unit price] * [Quantity]"
    assert shown_formula(db, "order", "count_lines") == "COUNT([Positions].[Unit price])"
    order = store.create(SYSTEM, "order", {"title": "O"})
    line = store.create(SYSTEM, "position", {"order": order["id"], "unit_price": "3", "quantity": 3})
    assert line["cost"] == d("9.00")
    assert value(store, "order", order["id"], "count_lines") == d("1")
    assert value(store, "order", order["id"], "total") == d("9.00")


def test_a_formula_may_be_edited_with_its_canonical_form_and_keeps_it_on_a_rename(db):
    svc, _ = order_book(db)
    cost = db.schema().object("order_line").field("cost")
    svc.update_field(SYSTEM, "order_line", "cost", {"label": "Line cost"})
    svc.update_field(SYSTEM, "order_line", "cost", {"options": dict(cost.options)})
    assert dict(db.schema().object("order_line").field("cost").options) == dict(cost.options)


def _options_and_rows(db):
    with db.read() as conn:
        options = {r.id: r.options for r in conn.execute(sa.select(FieldRow.id, FieldRow.options))}
    return options, raw_rows(db, "order_line"), raw_rows(db, "order")


def test_cycles_are_refused_with_the_cycle_shown_and_nothing_changed(db):
    svc, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    store.create(SYSTEM, "order_line", {"order": order["id"], "price": "2", "quantity": 2})
    svc.add_field(SYSTEM, "order_line", {"name": "a", "label": "A", "type": "formula", "options": {"formula": "[Price] * 2"}})
    svc.add_field(SYSTEM, "order_line", {"name": "b", "label": "B", "type": "formula", "options": {"formula": "[A] + 1"}})
    before = _options_and_rows(db)
    cases = [
        ("cost", "[Cost] + 1", "circular reference: Order line.Cost -> Order line.Cost"),
        ("a", "[B] * 2", "circular reference: Order line.A -> Order line.B -> Order line.A"),
        ("cost", "[Order].[Total] * [Quantity]", "circular reference: Order line.Cost -> Order.Total -> Order line.Cost"),
    ]
    for field, formula, message in cases:
        with pytest.raises(SchemaError) as err:
            svc.update_field(SYSTEM, "order_line", field, {"options": {"formula": formula}})
        assert err.value.errors["options"] == [message]
    assert _options_and_rows(db) == before


def test_a_cycle_through_a_link_back_to_the_same_field_is_refused(db):
    svc, _ = order_book(db)
    add_revenue(svc)
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "order_line", "cost", {"options": {"formula": "[Order].[Customer].[Revenue]"}})
    assert err.value.errors["options"] == [
        "circular reference: Order line.Cost -> Organisation.Revenue -> Order.Total -> Order line.Cost"]
    svc.add_field(SYSTEM, "organisation", {"name": "parent", "label": "Parent", "type": "link",
                                          "options": {"target": "organisation"}})
    svc.add_field(SYSTEM, "organisation", {"name": "group_city", "label": "Group city", "type": "formula",
                                          "options": {"formula": "[City]"}})
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "organisation", "group_city", {"options": {"formula": "[Parent].[Group city]"}})
    assert err.value.errors["options"] == ["circular reference: Organisation.Group city -> Organisation.Group city"]


def test_removing_a_referenced_field_is_refused_listing_the_formula(db):
    svc, _ = order_book(db)
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "order_line", "price")
    assert err.value.usages == ["field 'Order line.Cost' (formula) uses it"]
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "order_line", "cost")
    assert err.value.usages == ["field 'Order.Total' (rollup) uses it"]
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "organisation", "city")
    assert err.value.usages == ["field 'Contact person.City' (lookup) uses it"]


def test_a_change_that_breaks_a_formula_is_refused_naming_it(db):
    svc, store = order_book(db)
    store.create(SYSTEM, "order_line", {"price": "2", "quantity": 3})
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "order_line", "quantity", {"type": "string"})
    assert err.value.errors["type"] == [
        "field 'Order line.Cost' (formula) uses 'Quantity' and would break: "
        "text where a number is needed (line 1, column 11)"]
    assert db.schema().object("order_line").field("quantity").type == "integer"


def test_changing_a_referenced_field_rederives_its_dependants(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "order_line", {"name": "order_status", "label": "Order status", "type": "lookup",
                                        "options": {"link": "order", "field": "status"}})
    order = store.create(SYSTEM, "order", {"title": "O", "status": "open"})
    line = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "2.25", "quantity": 2})
    svc.update_field(SYSTEM, "order", "status", {"options": {"choices": [
        {"value": "open", "label": "In progress"}, {"value": "closed", "label": "Done"}]}})
    lookup = db.schema().object("order_line").field("order_status")
    assert lookup.ftype.format(lookup, value(store, "order_line", line["id"], "order_status")) == "In progress"
    svc.update_field(SYSTEM, "order_line", "price", {"options": {"precision": 12, "scale": 3}})
    assert value(store, "order_line", line["id"], "cost") == d("4.50")
    assert value(store, "order", order["id"], "total") == d("4.50")


def test_changing_a_formula_recomputes_existing_records_and_dependants(db):
    svc, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    line = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "2", "quantity": 3})
    svc.update_field(SYSTEM, "order_line", "cost", {"options": {"formula": "[Price] * [Quantity] * 2", "scale": 3}})
    assert value(store, "order_line", line["id"], "cost") == d("12.000")
    assert value(store, "order", order["id"], "total") == d("12.000")  # the rollup follows the new scale
    assert db.schema().object("order").field("total").options["result"]["options"]["scale"] == 3


def test_derived_values_write_no_history_and_keep_the_version(db):
    _, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    store.create(SYSTEM, "order_line", {"order": order["id"], "price": "1", "quantity": 1})
    again = store.get(SYSTEM, "order", order["id"])
    assert again["version"] == 1 and again["modified_at"] == order["modified_at"]
    with db.read() as conn:
        actions = conn.execute(sa.select(HistoryEntry.action).where(
            HistoryEntry.object_id == db.schema().object("order").id)).scalars().all()
    assert actions == ["create"]
    # the user's own save of the order still works with the version they read
    store.update(SYSTEM, "order", order["id"], {"title": "O2"}, version=order["version"])
