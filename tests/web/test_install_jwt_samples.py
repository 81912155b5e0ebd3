"""The install page shows how to sign a user_jwt, and its Python sample signs a
token the intake accepts (SPEC §6)."""

from __future__ import annotations

import html
import re
from typing import Any

from pavior.tracking.user_jwt import prove


def test_the_python_jwt_sample_signs_a_token_that_verifies(client: Any, db: Any) -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    new = create_workspace("Acme")
    client.force_login(create_admin("a@example.com", "a much longer passphrase"))
    page = client.get("/install/").content.decode()
    for library in ("PyJWT", "jsonwebtoken", "ruby-jwt", "firebase/php-jwt"):
        assert library in page
    code = re.search(r'<code id="jwt-python">(.*?)</code>', page, re.S)
    assert code is not None
    scope: dict[str, Any] = {"SECRET": new.identity_secret, "user_id": "u1", "email": "a@x.io"}
    exec(html.unescape(code.group(1)), scope)  # noqa: S102 - the page's own sample
    proof = prove([new.identity_secret], "u1", "a@x.io", user_jwt=scope["user_jwt"])
    assert (proof.verified, proof.email) == (True, "a@x.io")
