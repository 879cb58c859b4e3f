"""Request and response bodies (``XCreate`` in, ``XPublic`` out), one module per resource as in
``api/routers/``, with examples for /docs; :mod:`api.schemas.common` holds what they share."""
