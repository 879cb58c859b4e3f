"""Where things live on the server: the versioned JSON API apart from the web pages."""

API_PREFIX = "/api/v1"
"""Every JSON route (and its OpenAPI document and Swagger UI) is under this prefix; pages are at plain paths."""
