"""The Flex Consumption publish step against a local ARM + SCM (OneDeploy) endpoint on 127.0.0.1.

The server checks what the services check: the method, the path and query, the zip content type
and an Entra ID bearer token for the right audience. It answers like them too: OneDeploy takes a
remote build with 202 and a deployment id, `/api/deployments/latest` reports Kudu's DeployStatus
codes, and ARM applies a PATCH of `publicNetworkAccess` (possibly later, as a 202 does) and
reports it when the site is read. Tokens come from azure-identity at deploy time; here they are
replaced by one fake token per audience, so no credential is needed.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile

import pulumi.dynamic
import pytest

from components import azure_publish

SITE_ID = "/subscriptions/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.Web/sites/orders-consumer"
APP_SERVICE, ARM_RESOURCE = azure_publish.SCM_SCOPES
DEPLOYMENT_ID = "8c1f2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
BUILD_LOG = f"https://orders-consumer.scm.azurewebsites.net/api/deployments/{DEPLOYMENT_ID}/log"


def token(scope: str) -> str:
    return f"token-for-{scope}"


class Azure(http.server.BaseHTTPRequestHandler):
    """ARM for one site (PATCH, GET) and its SCM site (OneDeploy POST, deployment status GET)."""

    received: list[dict] = []
    answer = 202
    access = "Enabled"  # the site's publicNetworkAccess as ARM holds it
    pending_access: list = []  # a PATCH answered 202: applied after this many reads (then the value)
    patch_lag = 0
    refuse_after_open = 0  # publishes SCM still refuses after the site opens (the change propagates)
    scm_audiences = (APP_SERVICE, ARM_RESOURCE)
    previous = {"id": "0a9b8c7d-previous", "status": 4}  # what `latest` shows before the new deployment is listed
    statuses: list[dict] = []  # what `latest` reports for the new deployment, one per poll; the last repeats
    listed_after = 0  # status polls that still see `previous`

    def _record(self, body):
        self.received.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})

    def _reply(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body)

    def _scm_token_ok(self) -> bool:
        return self.headers["Authorization"] in {f"Bearer {token(scope)}" for scope in self.scm_audiences}

    def do_PATCH(self):  # noqa: N802 - ARM's update of the site
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._record(body)
        ok = self.path == f"{SITE_ID}?api-version=2025-05-01" and self.headers["Authorization"] == f"Bearer {token(azure_publish.ARM_SCOPE)}"
        if not ok:
            return self._reply(400)
        cls = type(self)
        cls.pending_access = [cls.patch_lag, body["properties"]["publicNetworkAccess"]]
        self._settle()
        self._reply(202 if cls.patch_lag else 200)

    def _settle(self) -> None:
        cls = type(self)
        if cls.pending_access and cls.pending_access[0] <= 0:
            cls.access, cls.pending_access = cls.pending_access[1], []
        elif cls.pending_access:
            cls.pending_access[0] -= 1

    def do_GET(self):  # noqa: N802
        self._record(None)
        cls = type(self)
        if self.path == f"{SITE_ID}?api-version=2025-05-01":
            self._settle()
            return self._reply(200, json.dumps({"id": SITE_ID, "properties": {"publicNetworkAccess": cls.access}}).encode())
        if self.path != "/api/deployments/latest":
            return self._reply(404)
        if not self._scm_token_ok():
            return self._reply(401)
        if cls.listed_after > 0 or not cls.statuses:
            cls.listed_after -= 1
            return self._reply(200, json.dumps(cls.previous).encode()) if cls.previous else self._reply(404)
        record = cls.statuses.pop(0) if len(cls.statuses) > 1 else cls.statuses[0]
        self._reply(200, json.dumps({"id": DEPLOYMENT_ID, **record}).encode())

    def do_POST(self):  # noqa: N802 - http.server's method name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._record(body)
        cls = type(self)
        if cls.access != "Enabled" or cls.refuse_after_open > 0:
            cls.refuse_after_open -= cls.access == "Enabled"
            return self._reply(403, b"Ip Forbidden")  # the site is closed to the public network
        if not self._scm_token_ok():
            return self._reply(401, b"Unauthorized")
        ok_request = (
            self.path == "/api/publish?type=zip&RemoteBuild=true&Deployer=cloudqueue"
            and self.headers["Content-Type"] == "application/zip"
            and body.startswith(b"PK")
        )
        status = cls.answer if ok_request else 400
        self._reply(status, {202: json.dumps(DEPLOYMENT_ID).encode(), 200: b""}.get(status, b'{"Message":"Deployment failed"}'))

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def scm(monkeypatch):
    Azure.received, Azure.answer, Azure.access, Azure.refuse_after_open = [], 202, "Enabled", 0
    Azure.pending_access, Azure.patch_lag, Azure.scm_audiences = [], 0, (APP_SERVICE, ARM_RESOURCE)
    Azure.previous, Azure.listed_after = {"id": "0a9b8c7d-previous", "status": 4}, 0
    Azure.statuses = [{"status": 1, "status_text": "Building"}, {"status": 4, "status_text": "Deployment successful."}]
    monkeypatch.setattr(azure_publish.time, "sleep", lambda seconds: None)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Azure)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    scopes: list[str] = []
    monkeypatch.setattr(azure_publish, "access_token", lambda scope: scopes.append(scope) or token(scope))
    Azure.scopes = scopes
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("function_app.py", "app = None\n")
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def window(scm: str, path: str, sha: str) -> dict:
    return {"scm_url": scm, "package_path": path, "package_sha256": sha, "site_id": SITE_ID, "arm_url": scm}


def steps() -> list[tuple]:
    """What reached the services, in order: ARM writes with their value, SCM posts and status polls."""
    shown = []
    for r in Azure.received:
        if r["method"] == "PATCH":
            shown.append(("PATCH", r["body"]["properties"]["publicNetworkAccess"]))
        elif r["method"] == "POST":
            shown.append(("POST",))
        elif r["path"].startswith("/api/deployments"):
            shown.append(("STATUS",))
        else:
            shown.append(("READ",))
    return shown


def test_create_posts_the_zip_with_an_app_service_token_and_waits_for_the_remote_build(scm, package):
    path, sha = package
    result = azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    assert isinstance(result, pulumi.dynamic.CreateResult) and result.id == f"{scm}#{sha}"
    post = next(r for r in Azure.received if r["method"] == "POST")
    assert post["body"] == open(path, "rb").read()
    assert post["headers"]["Authorization"] == f"Bearer {token('https://appservice.azure.com/.default')}"
    assert steps() == [("POST",), ("STATUS",), ("STATUS",)]  # 202, building, successful


def test_a_synchronous_publish_needs_no_status_poll(scm, package):
    Azure.answer = 200
    path, sha = package
    azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    assert steps() == [("POST",)]


def test_a_rejected_publish_fails_with_the_status_and_the_service_message(scm, package):
    Azure.answer = 409
    path, sha = package
    with pytest.raises(RuntimeError, match=r"HTTP 409 \{\"Message\":\"Deployment failed\"\}"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})


def test_a_package_that_changed_after_the_program_ran_is_not_published(scm, package):
    path, _ = package
    with pytest.raises(RuntimeError, match="changed since the program ran"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": "0" * 64})
    assert Azure.received == []


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
    assert steps().count(("POST",)) == 1


def test_a_new_site_id_redeploys(scm):
    olds = {"scm_url": scm, "package_path": "/tmp/a.zip", "package_sha256": "a" * 64, "site_id": SITE_ID}
    assert azure_publish.OneDeployProvider().diff("id", olds, {**olds, "site_id": SITE_ID + "2"}).changes is True


# --- the deploy window -----------------------------------------------------------------------------


def test_a_closed_app_is_opened_for_the_deployment_and_closed_only_after_the_build_finished(scm, package):
    Azure.access, Azure.refuse_after_open = "Disabled", 2  # SCM lags the change twice
    path, sha = package
    azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert steps() == [
        ("PATCH", "Enabled"), ("READ",),
        ("POST",), ("POST",), ("POST",),  # 403 twice while the change reaches SCM, then 202
        ("STATUS",), ("STATUS",),  # building, successful
        ("PATCH", "Disabled"), ("READ",),
    ]
    assert Azure.access == "Disabled"


def test_the_window_is_a_patch_of_public_network_access_alone_with_an_arm_token(scm, package):
    Azure.access = "Disabled"
    path, sha = package
    azure_publish.OneDeployProvider().create(window(scm, path, sha))
    patches = [r for r in Azure.received if r["method"] == "PATCH"]
    assert [p["body"] for p in patches] == [{"properties": {"publicNetworkAccess": "Enabled"}}, {"properties": {"publicNetworkAccess": "Disabled"}}]
    assert {p["headers"]["Authorization"] for p in patches} == {f"Bearer {token('https://management.azure.com/.default')}"}
    assert not [r for r in Azure.received if r["method"] == "PUT"]  # never a read-modify-PUT of the whole site


def test_an_update_answered_later_is_read_back_until_arm_reports_the_app_closed(scm, package):
    Azure.access, Azure.patch_lag = "Disabled", 3  # ARM answers 202 and reports each change on the third read
    path, sha = package
    azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert steps()[:4] == [("PATCH", "Enabled"), ("READ",), ("READ",), ("READ",)]
    assert steps()[-4:] == [("PATCH", "Disabled"), ("READ",), ("READ",), ("READ",)]
    assert Azure.access == "Disabled"


def test_a_site_that_never_reports_closed_fails_loudly(scm, package, monkeypatch):
    Azure.access, Azure.patch_lag = "Disabled", 10**6
    clock = iter(range(0, 10**6, 30))
    monkeypatch.setattr(azure_publish.time, "monotonic", lambda: next(clock))
    path, sha = package
    with pytest.raises(RuntimeError, match=r"still reports publicNetworkAccess='Disabled' 120 s after it was set to 'Enabled'"):
        azure_publish.OneDeployProvider().create(window(scm, path, sha))


def test_a_failed_upload_still_closes_the_app(scm, package):
    Azure.access, Azure.answer = "Disabled", 409
    path, sha = package
    with pytest.raises(RuntimeError, match="HTTP 409"):
        azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert steps()[-2:] == [("PATCH", "Disabled"), ("READ",)] and Azure.access == "Disabled"


def test_scm_that_stays_closed_fails_after_the_wait_and_leaves_the_app_closed(scm, package, monkeypatch):
    Azure.access, Azure.refuse_after_open = "Disabled", 10**6
    clock = iter(range(0, 10**6, 60))
    monkeypatch.setattr(azure_publish.time, "monotonic", lambda: next(clock))
    path, sha = package
    with pytest.raises(RuntimeError, match="HTTP 403 Ip Forbidden"):
        azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert Azure.access == "Disabled"


# --- following the remote build ------------------------------------------------------------------


def test_a_failed_remote_build_fails_the_publish_names_the_build_log_and_closes_the_window(scm, package):
    Azure.access = "Disabled"
    Azure.statuses = [{"status": 1}, {"status": 3, "status_text": "pip install failed: No matching distribution for orders-sdk==9", "log_url": BUILD_LOG}]
    path, sha = package
    news = window(scm, path, sha)
    with pytest.raises(RuntimeError) as raised:
        azure_publish.OneDeployProvider().update("id", {**news, "package_sha256": "a" * 64}, news)
    message = str(raised.value)
    assert f"deployment {DEPLOYMENT_ID}" in message and "failed: pip install failed" in message and BUILD_LOG in message
    assert "next `pulumi up` publishes again" in message
    assert steps()[-3:] == [("STATUS",), ("PATCH", "Disabled"), ("READ",)] and Azure.access == "Disabled"


def test_a_build_cancelled_by_another_deployment_fails_the_publish(scm, package):
    Azure.statuses = [{"status": 5, "status_text": "Conflict"}]
    path, sha = package
    with pytest.raises(RuntimeError, match=rf"deployment {DEPLOYMENT_ID} to .* was cancelled by another deployment: Conflict\. Build log: .*/api/deployments/{DEPLOYMENT_ID}/log"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})


def test_a_build_that_outlasts_the_bound_fails_with_the_log_url_and_closes_the_window(scm, package, monkeypatch):
    Azure.access, Azure.statuses = "Disabled", [{"status": 1, "status_text": "Building"}]
    clock = iter(range(0, 10**6, 10))
    monkeypatch.setattr(azure_publish.time, "monotonic", lambda: next(clock))
    path, sha = package
    with pytest.raises(RuntimeError, match=rf"did not finish within 900 s \(last status 1\)\. Build log: .*/api/deployments/{DEPLOYMENT_ID}/log"):
        azure_publish.OneDeployProvider().create(window(scm, path, sha))
    assert 10 < steps().count(("STATUS",)) <= 91  # bounded: one poll per 10 s of the 900 s
    assert Azure.access == "Disabled"


def test_the_previous_deployment_shown_as_latest_is_never_taken_for_the_new_one(scm, package):
    Azure.listed_after = 2  # two polls still see the previous, successful deployment
    Azure.statuses = [{"status": 3, "status_text": "Build failed", "log_url": BUILD_LOG}]
    path, sha = package
    with pytest.raises(RuntimeError, match="Build failed"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    assert steps().count(("STATUS",)) == 3


def test_a_deployment_not_listed_yet_is_waited_for(scm, package):
    Azure.previous, Azure.listed_after = None, 2  # a first deployment: `latest` answers 404 twice
    path, sha = package
    azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    assert steps() == [("POST",), ("STATUS",), ("STATUS",), ("STATUS",), ("STATUS",)]


# --- the SCM token ---------------------------------------------------------------------------------


def test_scm_falls_back_to_the_arm_audience_when_it_refuses_the_app_service_token(scm, package):
    Azure.scm_audiences = (ARM_RESOURCE,)
    path, sha = package
    azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    posts = [r["headers"]["Authorization"] for r in Azure.received if r["method"] == "POST"]
    assert posts == [f"Bearer {token(APP_SERVICE)}", f"Bearer {token(ARM_RESOURCE)}"]
    assert ARM_RESOURCE == "https://management.core.windows.net//.default"


def test_an_identity_without_an_app_service_token_signs_in_to_scm_with_the_arm_audience(scm, package, monkeypatch):
    def access_token(scope):
        if scope == APP_SERVICE:
            raise RuntimeError("AADSTS500011: resource principal not found")
        return token(scope)

    monkeypatch.setattr(azure_publish, "access_token", access_token)
    path, sha = package
    azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})
    assert {r["headers"]["Authorization"] for r in Azure.received} == {f"Bearer {token(ARM_RESOURCE)}"}


def test_scm_that_takes_no_audience_fails_with_its_answer(scm, package):
    Azure.scm_audiences = ()
    path, sha = package
    with pytest.raises(RuntimeError, match="HTTP 401 Unauthorized"):
        azure_publish.OneDeployProvider().create({"scm_url": scm, "package_path": path, "package_sha256": sha})


@pytest.mark.parametrize(("body", "wanted"), [
    (f'"{DEPLOYMENT_ID}"'.encode(), DEPLOYMENT_ID), (DEPLOYMENT_ID.encode(), DEPLOYMENT_ID),
    (json.dumps({"id": DEPLOYMENT_ID}).encode(), DEPLOYMENT_ID), (b"", ""), (b"<html>Accepted</html>", ""),
])
def test_the_deployment_id_is_read_from_the_accepted_answer_in_any_of_its_forms(body, wanted):
    assert azure_publish._deployment_id(body) == wanted
