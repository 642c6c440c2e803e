"""Word (.docx) templates filled from records with docxtpl in a sandboxed Jinja2
environment (issue 16).

Modules, lowest first: ``limits`` (every bound), ``values`` (what a template sees of a
record), ``formatting`` (dates, numbers, money, amounts in words), ``sandbox`` (the
environment and its budget), ``package`` (is an upload a plain .docx), ``source`` (the
placeholders of a .docx with their places), ``checker`` (placeholders against the
metadata; the plan of what to read), ``context`` (reading through the session with
purpose "print"), ``render`` (docxtpl within the limits), ``storage`` (templates and
versions in the database), ``documents`` (documents and .zip files for channels),
``starter`` (a template generated from the metadata), ``pdf`` (LibreOffice), ``usage``
(what templates use, for the schema service) and ``solution_part`` (templates in
solutions): both imported here so they are always registered.
"""
from __future__ import annotations

from . import solution_part, usage  # noqa: F401  (register the solution part and the usage finders)
