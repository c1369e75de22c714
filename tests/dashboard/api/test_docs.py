"""The browsable API docs: an HTML page whose every asset this server serves (no CDN), behind sign-in."""

from __future__ import annotations

import re

from tests.dashboard.api.api_support import API, assert_error, bearer

ASSET_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


def test_the_docs_page_loads_only_local_assets(login_as):
    client = login_as("marketing_manager")  # any signed-in role may read the docs
    response = client.get(f"{API}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and 'src="//' not in html
    assets = ASSET_REFERENCE.findall(html)
    assert len(assets) == 3, assets
    types = set()
    for url in assets:
        assert url.startswith(f"{API}/docs/assets/"), url
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content_length > 100, url
        types.add(asset.mimetype)
    assert types == {"text/css", "text/javascript"}
    # The page points Swagger UI at the document and hands it the session's CSRF token.
    assert f'content="{API}/openapi.json"' in html
    assert re.search(r'<meta name="csrf-token" content="[^"]{20,}"', html)


def test_swagger_ui_is_told_not_to_call_the_online_validator(login_as):
    script = login_as("billing").get(f"{API}/docs/assets/docs.js").get_data(as_text=True)
    assert "validatorUrl: null" in script and "X-CSRFToken" in script


def test_docs_document_and_assets_need_a_sign_in(app):
    client = app.test_client()
    for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
        assert_error(client.get(API + path), 401)


def test_unknown_assets_are_404(app, admin_token):
    for name in ("nothing.js", "..%2F..%2Fapp.py", "LICENSE"):
        assert_error(app.test_client().get(f"{API}/docs/assets/{name}", headers=bearer(admin_token)), 404)


def test_bearer_callers_get_the_page_without_a_session_cookie(app, admin_token):
    client = app.test_client()
    response = client.get(f"{API}/docs", headers=bearer(admin_token))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    # So their next call still authenticates with the token alone.
    assert client.get(f"{API}/me", headers=bearer(admin_token)).get_json()["auth_method"] == "token"
