"""The web UI: server-rendered pages (Jinja2 + htmx) on the same domain layer as the
API. See web/README.md for how to add a page."""
