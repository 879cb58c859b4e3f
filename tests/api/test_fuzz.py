"""Schemathesis against the app's own OpenAPI schema on a live server: no 5xx, responses match the schema.

IPLEDGER_FUZZ_EXAMPLES sets the number of generated cases per operation (default 10; 100 with IPLEDGER_DEEP_TESTS=1).
(Driven through Hypothesis directly: schemathesis's pytest plugin does not load under pytest 9.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.depth import depth

EXAMPLES = depth(10, 100, "IPLEDGER_FUZZ_EXAMPLES")

ABI_CHECKED = {("POST", "/api/v1/relay/prepare")}
"""Operations whose input is checked against the contracts' ABIs (a function of the contract, its
arguments' names and types, EIP-55 checksums), which no JSON schema can express: a schema-valid
body is a 400 with the reason there (tests/api/test_prepare.py), still never a 5xx."""

CERTIFICATE_CHECKED = {("POST", "/api/v1/certificates/render")}
"""Operations that take a timestamp certificate, whose fields must agree with each other (the leaf is
the keccak of the digest, author and salt; the time's two forms match; a batch has a proof), which
no JSON schema can express: a schema-valid body that disagrees is a 400 naming the field."""

SEALED_FORMAT_CHECKED = {("POST", "/api/v1/sealed"), ("POST", "/api/v1/sealed/{sealed_id}/recipients")}
"""Operations that take a sealed file or its recipient entries (docs/sealed-format.md: a binary layout,
base64 keys of a KEM's exact length), which no JSON schema can express: a schema-valid body that is not
one is a 400 with the reason."""

ACT_CHECKED = {("POST", "/api/v1/co-owners/{asset_id}/acts")}
"""Operations that describe an act of a co-owned asset: which fields it needs depends on the act named
(a pledge its bank, principal and maturity; a licence its term...), and the asset must be co-owned on the
chain, which no JSON schema can express: a schema-valid body that lacks one is a 400 naming it."""

OPEN_DOMAIN = {("GET", "/api/v1/licenses/codes")}
"""Operations whose valid inputs JSON Schema cannot describe: any string may name a country (ISO codes
and names, as pycountry knows them), and an unknown one is a documented 422. Every other check still
runs on them (no 5xx, responses as the schema says)."""


def test_api_fuzz_no_server_errors_and_schema_conformance(live_api: str):
    schema = schemathesis.openapi.from_url(f"{live_api}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, "the schema lost its operations"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            key = (case.method.upper(), case.path)
            checked_elsewhere = ABI_CHECKED | OPEN_DOMAIN | CERTIFICATE_CHECKED | SEALED_FORMAT_CHECKED | ACT_CHECKED
            excluded = [positive_data_acceptance] if key in checked_elsewhere else []
            response = case.call()
            if response.status_code == 422 and "has a wrong EIP-55 checksum" in response.text:
                # The schema's address pattern cannot express EIP-55: a random mixed-case address almost never
                # carries its checksum, and refusing it (not "correcting" it) is the rule (issue 11 #24).
                return
            case.validate_response(response, excluded_checks=excluded)

        fuzz()
