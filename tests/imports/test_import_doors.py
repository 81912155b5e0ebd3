"""The same import through the REST API and the `pavior import` command."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from django.core.files.uploadedfile import SimpleUploadedFile

from pavior.cli import main
from pavior.people.models import AttributeDefinition, Person
from tests.conftest import error_of

CSV = b"Email,First name,Plan,Seats\na@x.io,Ann,pro,3\nb@x.io,Bob,free,x\n"


def test_rest_import_returns_202_then_its_result(
    db: Any,
    api: Any,
    workspace: Any,
    django_capture_on_commit_callbacks: Any,
    immediate_tasks: None,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = api.client.post(
            "/api/v1/imports",
            {
                "file": SimpleUploadedFile("p.csv", CSV, "text/csv"),
                "mapping": json.dumps(
                    {"Plan": {"attribute": "plan", "type": "string"}, "Seats": "seats:number"}
                ),
                "mode": "upsert",
            },
            HTTP_AUTHORIZATION=f"Bearer {api.key}",
        )
    assert r.status_code == 202, r.content
    body = api.get(f"/imports/{r.json()['id']}").json()
    assert body["status"] == "done"
    assert body["progress"]["fraction"] == 1.0
    assert body["mapping"] == {
        "Email": "email",
        "First name": "first_name",
        "Plan": "plan",
        "Seats": "seats",
    }
    assert (body["result"]["created"], body["result"]["rejected"]) == (1, 1)
    assert Person.objects.get(workspace=workspace, email="a@x.io").custom == {
        "plan": "pro",
        "seats": 3,
    }


def test_rest_import_refuses_bad_input_with_a_4xx(db: Any, api: Any) -> None:
    def post(data: dict[str, Any]) -> Any:
        return api.client.post("/api/v1/imports", data, HTTP_AUTHORIZATION=f"Bearer {api.key}")

    r = post({"file": SimpleUploadedFile("p.csv", b"name\nAnn\n"), "mapping": "{}"})
    assert r.status_code == 422 and "id or email" in error_of(r)["message"]
    r = post({"file": SimpleUploadedFile("p.csv", CSV), "mapping": "[1"})
    assert r.status_code == 422 and error_of(r)["field"] == "mapping"
    r = post({"file": SimpleUploadedFile("p.png", b"\x89PNG\x00\x00\x00")})
    assert r.status_code == 422 and "not a CSV file" in error_of(r)["message"]
    r = post({"file": SimpleUploadedFile("p.csv", CSV), "mapping": '{"Plan": "total_visits"}'})
    assert r.status_code == 422 and "total_visits" in error_of(r)["message"]
    assert api.get("/imports/999999").status_code == 404
    assert not AttributeDefinition.objects.exists()


def test_cli_import_maps_by_header_and_creates_attributes(
    db: Any, workspace: Any, tmp_path: Any
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(CSV + b"c@x.io,Cy,team,7\n")
    result = CliRunner().invoke(
        main,
        [
            "import",
            str(path),
            "--workspace",
            workspace.app_id,
            "--map",
            "Plan=plan:string",
            "--map",
            "Seats=seats:number",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["created"], summary["rejected"], summary["unmapped"]) == (2, 1, [])
    assert summary["mapping"]["First name"] == "first_name"
    assert set(summary["new_attributes"]) == {"plan", "seats"}
    again = CliRunner().invoke(main, ["import", str(path), "--workspace", workspace.app_id])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 2 unchanged" in again.output
    bad = CliRunner().invoke(main, ["import", str(path), "--workspace", "app_nope"])
    assert bad.exit_code == 2 and "No workspace" in bad.output


# Line 3 opens a quote that nothing closes: the rest of the file would be one name.
BROKEN = b'email,name\na@x.io,Ann\nb@x.io,"Bob\nc@x.io,Cy\nd@x.io,Di\n'
BROKEN_MESSAGE = "Line 3: a quote"


def test_a_broken_file_fails_with_its_line_over_rest(
    db: Any,
    api: Any,
    workspace: Any,
    django_capture_on_commit_callbacks: Any,
    immediate_tasks: None,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = api.client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("p.csv", BROKEN, "text/csv")},
            HTTP_AUTHORIZATION=f"Bearer {api.key}",
        )
    assert r.status_code == 202, r.content
    body = api.get(f"/imports/{r.json()['id']}").json()
    assert body["status"] == "failed"
    assert body["error"].startswith(BROKEN_MESSAGE), body["error"]
    assert not Person.objects.filter(workspace=workspace).exists()


def test_a_broken_file_fails_with_its_line_in_the_cli(
    db: Any, workspace: Any, tmp_path: Any
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(BROKEN)
    result = CliRunner().invoke(main, ["import", str(path), "--workspace", workspace.app_id])
    assert result.exit_code == 1
    assert f"Import failed: {BROKEN_MESSAGE}" in result.output
    as_json = CliRunner().invoke(
        main, ["import", str(path), "--workspace", workspace.app_id, "--json"]
    )
    assert as_json.exit_code == 1
    summary = json.loads(as_json.output)
    assert summary["status"] == "failed" and summary["error"].startswith(BROKEN_MESSAGE)
    assert not Person.objects.filter(workspace=workspace).exists()
