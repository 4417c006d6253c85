"""/favicon.ico, which browsers ask for by themselves, is the dashboard's icon (not a 404)."""


def test_favicon_is_served(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200 and b"<svg" in b"".join(response.streaming_content)
