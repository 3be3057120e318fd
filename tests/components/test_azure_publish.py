"""The Flex Consumption publish step against a local OneDeploy endpoint on 127.0.0.1.

The server checks what the SCM site checks: the method, the path and query, the zip content
type and an Entra ID bearer token. The token comes from azure-identity at deploy time; here it
is replaced, so no credential is needed.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pulumi.dynamic
import pytest

from components import azure_publish

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test.signature"
SITE_ID = "/subscriptions/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.Web/sites/orders-consumer"


class OneDeploy(http.server.BaseHTTPRequestHandler):
    """A Kudu OneDeploy endpoint: POST /api/publish?type=zip with a zip and a bearer token."""

    received: list[dict] = []
    answer = 200
    # The app's publicNetworkAccess as ARM holds it, and how many publishes SCM still refuses
    # after it opens (the change takes a while to reach SCM).
    access = "Enabled"
    refuse_after_open = 0

    def do_PATCH(self):  # noqa: N802 - ARM's update of the site
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append({"method": "PATCH", "path": self.path, "headers": dict(self.headers), "body": body})
        ok = self.path == f"{SITE_ID}?api-version=2025-05-01" and self.headers["Authorization"] == f"Bearer {TOKEN}"
        if ok:
            type(self).access = body["properties"]["publicNetworkAccess"]
        self.send_response(200 if ok else 400)
        self.end_headers()

    def do_POST(self):  # noqa: N802 - http.server's method name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
        if type(self).access != "Enabled" or type(self).refuse_after_open > 0:
            type(self).refuse_after_open -= type(self).access == "Enabled"
            self.send_response(403)  # Ip Forbidden: the site is closed to the public network
            self.end_headers()
            self.wfile.write(b"Ip Forbidden")
            return
        ok_request = (
            self.path == "/api/publish?type=zip&RemoteBuild=true&Deployer=cloudqueue"
            and self.headers["Content-Type"] == "application/zip"
            and self.headers["Authorization"] == f"Bearer {TOKEN}"
            and body.startswith(b"PK")
        )
        status = self.answer if ok_request else 400
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"" if status < 300 else b'{"Message":"Deployment failed"}')

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def scm(monkeypatch):
    OneDeploy.received, OneDeploy.answer, OneDeploy.access, OneDeploy.refuse_after_open = [], 200, "Enabled", 0
    monkeypatch.setattr(azure_publish.time, "sleep", lambda seconds: None)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OneDeploy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(azure_publish, "access_token", lambda: TOKEN)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def package(tmp_path):
    import zipfile

    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("function_app.py", "app = None\n")
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def test_create_posts_the_zip_with_a_bearer_token_to_one_deploy(scm, package):
    path, sha = package
    result = azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    assert isinstance(result, pulumi.dynamic.CreateResult) and result.id == f"{scm}#{sha}"
    (request,) = OneDeploy.received
    assert request["body"] == open(path, "rb").read()


def test_a_rejected_publish_fails_with_the_status_and_the_service_message(scm, package):
    OneDeploy.answer = 409
    path, sha = package
    with pytest.raises(RuntimeError, match=r"HTTP 409 \{\"Message\":\"Deployment failed\"\}"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})


def test_a_package_that_changed_after_the_program_ran_is_not_published(scm, package):
    path, _ = package
    with pytest.raises(RuntimeError, match="changed since the program ran"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": "0" * 64})
    assert OneDeploy.received == []


def test_only_a_new_package_hash_or_app_redeploys(scm, package):
    provider = azure_publish.OneDeployProvider()
    olds = {"scm_url": scm, "package_path": "/tmp/a.zip", "package_sha256": "a" * 64}
    assert provider.diff("id", olds, {**olds, "package_path": "/tmp/elsewhere.zip"}).changes is False
    assert provider.diff("id", olds, {**olds, "package_sha256": "b" * 64}).changes is True
    assert provider.diff("id", olds, {**olds, "scm_url": "https://other.scm.azurewebsites.net"}).changes is True
    assert provider.diff("id", olds, {**olds, "package_sha256": "b" * 64}).replaces == []


def test_update_republishes_the_new_package(scm, package):
    path, sha = package
    news = {"scm_url": scm, "package_path": path, "package_sha256": sha}
    assert azure_publish.OneDeployProvider().update("id", {**news, "package_sha256": "a" * 64}, news).outs == news
    assert len(OneDeploy.received) == 1


def window(scm: str, path: str, sha: str) -> dict:
    return {"scm_url": scm, "package_path": path, "package_sha256": sha, "site_id": SITE_ID, "arm_url": scm}


def test_a_closed_app_is_opened_for_the_upload_and_closed_again(scm, package):
    OneDeploy.access, OneDeploy.refuse_after_open = "Disabled", 2  # SCM lags the change twice
    path, sha = package
    azure_publish.OneDeployProvider().create(window(scm, path, sha))
    steps = [(r["method"], r["body"]["properties"]["publicNetworkAccess"] if r["method"] == "PATCH" else None) for r in OneDeploy.received]
    assert steps == [("PATCH", "Enabled"), ("POST", None), ("POST", None), ("POST", None), ("PATCH", "Disabled")]
    assert OneDeploy.access == "Disabled"


def test_a_failed_upload_still_closes_the_app(scm, package):
    OneDeploy.access, OneDeploy.answer = "Disabled", 409
    path, sha = package
    with pytest.raises(RuntimeError, match="HTTP 409"):
        azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert OneDeploy.received[-1]["method"] == "PATCH" and OneDeploy.access == "Disabled"


def test_scm_that_stays_closed_fails_after_the_wait_and_leaves_the_app_closed(scm, package, monkeypatch):
    OneDeploy.access, OneDeploy.refuse_after_open = "Disabled", 10**6
    clock = iter(range(0, 10**6, 60))
    monkeypatch.setattr(azure_publish.time, "monotonic", lambda: next(clock))
    path, sha = package
    with pytest.raises(RuntimeError, match="HTTP 403 Ip Forbidden"):
        azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert OneDeploy.access == "Disabled"


def test_a_new_site_id_redeploys(scm):
    olds = {"scm_url": scm, "package_path": "/tmp/a.zip", "package_sha256": "a" * 64, "site_id": SITE_ID}
    assert azure_publish.OneDeployProvider().diff("id", olds, {**olds, "site_id": SITE_ID + "2"}).changes is True
