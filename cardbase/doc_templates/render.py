"""Filling a template: docxtpl on python-docx, in the sandboxed environment, within the
time and size limits, for records read through the user's session (purpose "print").

``DocumentRenderer`` checks the template against today's metadata and the user's rights
once, then fills it for one record after another (a card's "Documents" button, a list's
bulk .zip, the API). Anything a template does wrong while filling -- a limit, a refused
operation, a value a filter cannot format -- is a ValidationError naming the template and
the reason; nothing is written anywhere."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any, Mapping

from docxtpl import DocxTemplate
from jinja2 import TemplateError
from lxml import etree
from jinja2.sandbox import SecurityError

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.i18n import _
from cardbase.schema_engine.store.session import Session

from .checker import Analysis, analyse
from .context import ContextBuilder
from .formatting import FormatError
from .limits import MAX_OUTPUT_CHARS, RENDER_SECONDS
from .sandbox import Budget, LimitExceeded, budget_scope, environment
from .source import template_tags

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class TemplateFile:
    """A template's current version as the renderer needs it."""

    id: int
    object_id: int
    name: str
    language: str
    content: bytes
    references: Mapping[str, Any]


class TemplateProblems(ValidationError):
    """The template does not fit the metadata; ``problems`` lists each with its tag and place."""

    def __init__(self, name: str, problems: list[dict[str, Any]]):
        self.problems = problems
        lines = [f"{p['place']}: {p['text']}: {p['message']}"
                 + (_(" (did you mean '%(name)s'?)", name=p["suggestion"]) if p.get("suggestion") else "")
                 for p in problems]
        super().__init__({"file": lines}, _("the template '%(name)s' does not fit the metadata: %(problems)s",
                                            name=name, problems="; ".join(lines)))


def check_template(session_schema: Any, obj: Any, content: bytes, aliases: Mapping[str, Any] | None = None) -> Analysis:
    return analyse(session_schema, obj, template_tags(content), aliases)


class _LimitedDocx(DocxTemplate):
    """docxtpl with each part's XML generated piece by piece, stopped at the size limit."""

    def __init__(self, content: bytes, budget: Budget):
        super().__init__(io.BytesIO(content))
        self._budget = budget

    def render_xml_part(self, src_xml, part, context, jinja_env=None):  # noqa: ANN001 - docxtpl's signature
        src_xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", src_xml)
        self.current_rendering_part = part
        template = jinja_env.from_string(src_xml)
        chunks, size = [], 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_("the document would be larger than %(limit)s MB",
                                      limit=MAX_OUTPUT_CHARS // (1024 * 1024)))
            self._budget.tick(0)
            chunks.append(chunk)
        dst_xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", "".join(chunks))
        dst_xml = (dst_xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}"))
        return self.resolve_listing(dst_xml)


def fill(content: bytes, context: Mapping[str, Any], language: str, *, seconds: float = RENDER_SECONDS,
         name: str = "template") -> bytes:
    """The .docx ``content`` filled with ``context`` in the sandbox: the document's bytes."""
    budget = Budget(seconds)
    env = environment(language)
    doc = _LimitedDocx(content, budget)
    try:
        with budget_scope(budget):
            doc.render(dict(context), jinja_env=env, autoescape=True)
        out = io.BytesIO()
        doc.save(out)
    except (LimitExceeded, SecurityError, FormatError) as exc:
        raise _failed(name, str(exc)) from None
    except RecursionError:
        raise _failed(name, _("it calls itself too deeply")) from None
    except TemplateError as exc:
        raise _failed(name, exc.message or type(exc).__name__) from None
    except etree.LxmlError:
        raise _failed(name, _("the filled document is not valid Word XML: does a tag open in one paragraph or "
                              "cell and close in another?")) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise _failed(name, f"{type(exc).__name__}: {str(exc)[:300]}") from None
    return out.getvalue()


def _failed(name: str, reason: str) -> ValidationError:
    return ValidationError({"template": _("the template '%(name)s' could not be filled: %(reason)s",
                                          name=name, reason=reason)})


class DocumentRenderer:
    """One template, checked once, filled for records of its object as the session's actor."""

    def __init__(self, session: Session, template: TemplateFile):
        self.session, self.template = session, template
        obj = session.schema.object(template.object_id)
        session.require_purpose(obj, "print")
        analysis = check_template(session.schema, obj, template.content, template.references.get("names"))
        if not analysis.ok:
            raise TemplateProblems(template.name, [p.as_dict() for p in analysis.problems])
        self.obj = obj
        self.builder = ContextBuilder(session, analysis.plan, template.language)

    def render(self, record_id: int) -> bytes:
        return self.render_named(record_id)[1]

    def render_named(self, record_id: int) -> tuple[str, bytes]:
        """(the record's code, the filled document)."""
        code, context = self.builder.record(record_id)
        return code, fill(self.template.content, context, self.template.language, name=self.template.name)
