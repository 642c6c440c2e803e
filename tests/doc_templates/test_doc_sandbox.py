"""The sandbox (issue 16, point 4): a corpus of template injection attempts is refused --
by the checker on upload where the template names something that does not exist, and
while filling (the checker does not stand between an attacker and ``fill``) by Jinja's
SandboxedEnvironment narrowed further and by the time, step and size limits. No
template reaches a file or the network."""
from __future__ import annotations

import time

import pytest
from invoice_fixture import build, docx_with, order_with_lines

from cardbase.doc_templates import storage
from cardbase.doc_templates.render import TemplateProblems, fill
from cardbase.doc_templates.values import Record
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.store import RecordStore

CONTEXT = {"order": Record({"title": "T"}, "T"), "title": "T", "items": [1, 2, 3]}

# (template, what the refusal says) -- each filled directly, bypassing the upload check
REFUSED_WHILE_FILLING = [
    ("{{ order.__class__ }}", "unsafe"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
    ("{{ order._values }}", "unsafe"),
    ("{{ title.__len__() }}", "unsafe"),
    ("{{ items.append }}", "unsafe"),
    ("{{ items.pop() }}", "unsafe"),
    ("{{ title.replace('T', 'TT') }}", "unsafe"),  # text amplification
    ("{{ cycler.__init__.__globals__ }}", "unsafe"),
    ("{{ joiner.__init__.__globals__.os }}", "unsafe"),
    ("{{ namespace.__init__.__globals__ }}", "unsafe"),
    ("{{ cycler }}{{ joiner }}{{ namespace }}", "'cycler' is undefined"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "'lipsum' is undefined"),
    ("{{ self.__init__.__globals__ }}", "unsafe"),
    ("{{ dict(a=1) }}", "'dict' is undefined"),
    ("{{ '{0.__class__}'.format(order) }}", "str.format is not available"),
    ("{{ '{:999999999}'.format(1) }}", "str.format is not available"),
    ("{{ '%999999999d' % 1 }}", "formatting text with the percent operator is not available"),
    ("{{ 'x'|format }}", "No filter named 'format'"),
    ("{{ 'x'|center(999999999) }}", "No filter named 'center'"),
    ("{{ 'x'|indent(999999999) }}", "No filter named 'indent'"),
    ("{{ 'x'|safe }}", "No filter named 'safe'"),
    ("{{ 'x' * 999999999 }}", "longer than 1,048,576 characters"),
    ("{{ [1] * 999999999 }}", "longer than 1,048,576 characters"),
    ("{{ 9 ** 99999999 }}", "the power is too large"),
    ("{{ (2 ** 1000) ** 1000 }}", "the power is too large"),
    ("{{ range(999999999)|list }}", "range() is limited to 10,000"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "loop steps"),
    ("{% for i in items recursive %}{{ loop(items) }}{% endfor %}", "too deeply"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "too deeply"),
    ("{% for i in range(10000) %}{{ 'x' * 1000000 }}{% endfor %}", "larger than 40 MB"),
    ("{% include '/etc/passwd' %}", "no loader"),
    ("{% import 'os' as os %}", "no loader"),
    ("{% extends 'http://example.com/x.docx' %}", "no loader"),
    ("{{ open('/etc/passwd').read() }}", "'open' is undefined"),
    ("{{ __import__('os').system('id') }}", "is undefined"),
    ("{{ config }}{{ request }}{{ url_for }}", "is undefined"),
]


@pytest.mark.parametrize("source, reason", REFUSED_WHILE_FILLING, ids=[s for s, _r in REFUSED_WHILE_FILLING])
def test_template_injection_is_refused_while_filling(source, reason):
    started = time.monotonic()
    with pytest.raises(ValidationError) as info:
        fill(docx_with([source]), CONTEXT, "en", name="Attack")
    assert info.value.errors["template"][0].startswith("the template 'Attack' could not be filled: ")
    assert reason in info.value.message
    assert time.monotonic() - started < 15  # every attempt ends within the time limit (10 s) and some slack


def test_a_template_is_stopped_by_the_clock():
    source = "{% for i in range(10000) %}{% for j in range(10) %}{{ j }}{% endfor %}{% endfor %}"
    started = time.monotonic()
    with pytest.raises(ValidationError, match="ran longer than 0.05 seconds"):
        fill(docx_with([source]), CONTEXT, "en", seconds=0.05)
    assert time.monotonic() - started < 5


def test_harmless_jinja_still_works_in_the_sandbox():
    source = ("{% set n = items|length %}{{ n }} {{ items|sum }} {{ items|join('-') }} {{ title|lower }} "
              "{{ title.lower() }} {% for i in range(2) %}{{ loop.index }}{% endfor %} {{ 2 ** 10 }} {{ 'ab' * 2 }}")
    from invoice_fixture import texts
    paragraphs, _rows = texts(fill(docx_with([source]), CONTEXT, "en"))
    assert paragraphs == ["3 6 1-2-3 t t 12 1,024 abab"]


UPLOAD_REFUSED = [
    ("{{ cycler }}", "unknown name 'cycler'"),
    ("{{ joiner() }}", "unknown name 'joiner'"),
    ("{{ namespace(a=1) }}", "unknown name 'namespace'"),
    ("{{ self }}", "unknown name 'self'"),
    ("{{ order.__class__ }}", "'order' has no field or child list '__class__'"),
    ("{{ title|format }}", "unknown filter 'format'"),
    ("{% include 'x.docx' %}", "include, import, extends and block are not available in documents"),
    ("{{ title.__class__ }}", "'title' is a string field: it has no '__class__'"),
    ("{{ order.title }", "the tag cannot be read: unexpected '}'"),
]


@pytest.mark.parametrize("source, message", UPLOAD_REFUSED, ids=[s for s, _m in UPLOAD_REFUSED])
def test_template_injection_is_refused_on_upload(db, source, message):
    build(db)
    store = RecordStore(db)
    with pytest.raises(TemplateProblems) as info:
        storage.create_template(store, SYSTEM, "order", name="Attack", filename="a.docx",
                                content=docx_with(["Hello", source]))
    assert len(info.value.problems) == 1 and info.value.problems[0]["message"].startswith(message)
    assert info.value.problems[0]["place"] == "paragraph 2"
    assert storage.list_templates(store, SYSTEM, "order", manage=True) == []


def test_a_filled_value_cannot_inject_xml_or_jinja(db):
    build(db)
    store = RecordStore(db)
    order_id = order_with_lines(store, 1, title="{{ 7*7 }}</w:t></w:r><w:r><w:t>injected")
    tid = storage.create_template(store, SYSTEM, "order", name="T", filename="t.docx",
                                  content=docx_with(["[{{ order.title }}]"]))["id"]
    from invoice_fixture import texts

    from cardbase.doc_templates import documents
    with store.session(SYSTEM) as s:
        paragraphs, _rows = texts(documents.render_document(s, "order", tid, order_id).content)
    assert paragraphs == ["[{{ 7*7 }}</w:t></w:r><w:r><w:t>injected]"]
