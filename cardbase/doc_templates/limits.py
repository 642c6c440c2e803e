"""The bounds every template and every rendering stays within. A template is code written
by a power user and run for every end user: it may not take the server's time, memory or
disk, however it is written."""
from __future__ import annotations

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a .docx as uploaded
MAX_UNPACKED_BYTES = 60 * 1024 * 1024  # the sum of its parts unzipped (a zip bomb stops here)
MAX_PARTS = 2_000  # files inside the .docx
MAX_NAME = 200  # a template's name
MAX_DESCRIPTION = 2_000

RENDER_SECONDS = 10.0  # one document
MAX_OUTPUT_CHARS = 40 * 1024 * 1024  # the rendered XML of one part
MAX_LOOP_STEPS = 200_000  # loop iterations, calls and operations of one rendering
MAX_RANGE = 10_000  # range() in a template
MAX_VALUE_CHARS = 1024 * 1024  # a string or list built by an operator (*, +)
MAX_POWER = 1_000  # ** with a larger exponent is refused
MAX_CHILD_ROWS = 5_000  # records of one child list in one document
MAX_BULK_DOCUMENTS = 500  # documents in one .zip
