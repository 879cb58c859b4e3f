"""``/api/v1/docs`` works offline: Swagger UI's page references only this server, which serves its assets."""

from __future__ import annotations

import json
import re

from api.docs import ASSETS

URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


def test_docs_page_when_offline_references_only_local_urls(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SwaggerUIBundle" in html
    assert not re.search(r"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "the page names another host"
    urls = [a or b for a, b in URL_ATTRIBUTE.findall(html)]
    assert {"/api/v1/docs/assets/swagger-ui-bundle.js", "/api/v1/docs/assets/swagger-ui.css",
            "/api/v1/openapi.json"} <= set(urls)
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io


def test_docs_assets_when_requested_answer_200_with_their_content_type(client):
    for name, media_type in ASSETS.items():
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == media_type
        assert len(response.content) > 100
    assert b"SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").content
    assert b".swagger-ui" in client.get("/docs/assets/swagger-ui.css").content
    assert client.get("/docs/assets/favicon-32x32.png").content.startswith(b"\x89PNG")
    assert json.loads(client.get("/openapi.json").text)["info"]["title"] == "ipledger"


def test_docs_assets_when_not_swaggers_file_answer_404_problem(client):
    for name in ("package.json", "..%2F..%2Fpackage.json", "index.html"):
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json"


def test_redoc_when_requested_is_not_served(client):
    assert client.get("/redoc").status_code == 404
