def test_docs_page_loads_its_assets_from_pavior_not_a_cdn(client, db):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html  # a self-hosted server may have no internet, and CSP forbids it
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
