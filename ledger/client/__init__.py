"""The Python client of the HTTP API: requests signed locally, relayed by the service (api), and
the CLI's commands carried out through an API (remote)."""
