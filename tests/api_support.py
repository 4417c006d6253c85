"""Assertions on the API's answers, shared by the tests that call it through Django's test client."""


def assert_error(response, status: int, code: str) -> dict:
    """The answer is the contract's error: this status, JSON `{"success": false, "error": code, "message"}`."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and body["error"] == code and body["message"], body
    return body
