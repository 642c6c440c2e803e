"""Word (.docx) templates filled from records with docxtpl in a sandboxed Jinja2
environment; arrives with the documents issue."""
