"""Publishing a Function App's code package on Flex Consumption, as a Pulumi dynamic resource.

Flex Consumption does not run from `WEBSITE_RUN_FROM_PACKAGE` and has no `/api/zipdeploy`. Its
code goes through the OneDeploy endpoint on the app's SCM host, `POST /api/publish?type=zip`
with `Content-Type: application/zip`, which stores the package in the app's deployment blob
container (the Terraform azurerm provider moved to exactly this in its PR #31937). Requests carry
an Entra ID bearer token taken with `azure-identity`'s DefaultAzureCredential, so no publishing
credential or SAS is ever created. Python apps ask for a remote build, so the plan installs
`requirements.txt` for its own platform.

With `RemoteBuild=true` OneDeploy answers 202 and builds in the background for minutes. Like the
Azure CLI's Flex path (`enable_zip_deploy_flex` -> `_check_zip_deployment_status_flex` in
azure-cli's appservice `custom.py`), the step then polls `/api/deployments/latest` until the
deployment succeeds or fails, and fails itself when the deployment fails or does not finish in
time, naming the build log: Pulumi then keeps the old package hash, so the next `pulumi up`
publishes again.

The app keeps `publicNetworkAccess: Disabled` (CKV_AZURE_222), which closes its SCM site as well.
Flex Consumption takes code only through SCM, so the publish step opens a deploy window: it sets
`publicNetworkAccess: Enabled` through ARM, posts the package (retrying while the change
propagates and SCM still answers 403), waits for the deployment to finish, and sets it back to
`Disabled` whether the publish worked or not, then reads the site back until ARM reports it
closed. During the window the main site still denies every address and SCM accepts Entra ID
tokens only.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi.dynamic

# Azure Resource Manager scope, for the deploy window's PATCH of the site.
ARM_SCOPE = "https://management.azure.com/.default"
# SCM (Kudu) audiences, preferred first. Microsoft is moving Kudu calls to the App Service
# audience (microsoft/vscode-azuretools#2258: ARM tokens for Kudu are deprecated); Azure Pipelines
# still falls back to the ARM one (azure-pipelines-tasks-common-packages#642, #652). The fallback
# is ARM's resource id, the audience the Azure CLI's login credential carries: Kudu has refused
# `management.azure.com` tokens (microsoft/vscode-azure-account#343, vscode-azuretools#1670).
SCM_SCOPES = ("https://appservice.azure.com/.default", "https://management.core.windows.net//.default")
PUBLISH_PATH = "/api/publish?type=zip&RemoteBuild=true&Deployer=cloudqueue"
STATUS_PATH = "/api/deployments/latest"
# The upload itself; the remote build is followed through STATUS_PATH.
PUBLISH_TIMEOUT_SECONDS = 600
# A remote build installs requirements for minutes; the Azure CLI polls up to 450 times.
DEPLOY_TIMEOUT_SECONDS = 900
STATUS_POLL_SECONDS = 5
# Kudu's DeployStatus: 0 pending, 1 building, 2 deploying, 3 failed, 4 success, 5 conflict,
# 6 partial success; -1 cancelled (the states azure-cli's Flex check handles).
DEPLOY_SUCCEEDED = 4
DEPLOY_FAILED = {3: "failed", 5: "was cancelled by another deployment", 6: "only partly succeeded", -1: "was cancelled"}
ARM_ENDPOINT = "https://management.azure.com"
# The Microsoft.Web API version the installed azure-native SDK's WebApp uses.
WEB_API_VERSION = "2025-05-01"
# Opening the site takes effect within seconds to about a minute; SCM answers 403 until then.
OPEN_WAIT_SECONDS = 180
OPEN_RETRY_INTERVAL_SECONDS = 5
# How long ARM may take to report the new publicNetworkAccess (the update may answer 202).
ACCESS_SETTLE_SECONDS = 120


def access_token(scope: str) -> str:
    """An access token for `scope` for whoever runs `pulumi up` (CLI login, environment or managed identity)."""
    from azure.identity import DefaultAzureCredential  # only deployments pay for the import

    return DefaultAzureCredential().get_token(scope).token


class PublishError(RuntimeError):
    """A request of the publish step that the service refused; `status` is its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _send(request: urllib.request.Request, what: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise PublishError(error.code, f"{what} failed: HTTP {error.code} {detail}") from None


class ScmSite:
    """Bearer-authenticated requests to one app's SCM site, falling back to the next audience on 401."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self._scopes = list(SCM_SCOPES)
        self._token = self._first_token()

    def _first_token(self) -> str:
        """A token for the first audience the signed-in identity can get one for."""
        while True:
            try:
                return access_token(self._scopes[0])
            except Exception:  # azure-identity's ClientAuthenticationError and its kin
                if len(self._scopes) == 1:
                    raise
                self._scopes.pop(0)

    def request(self, method: str, path: str, what: str, timeout: float, data: Optional[bytes] = None, content_type: str = "") -> tuple[int, bytes]:
        while True:
            headers = {"Authorization": f"Bearer {self._token}", "Cache-Control": "no-cache"}
            if content_type:
                headers["Content-Type"] = content_type
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            try:
                return _send(request, what, timeout)
            except PublishError as error:
                if error.status != 401 or len(self._scopes) == 1:
                    raise
                self._scopes.pop(0)  # this SCM site does not take that audience yet
                self._token = self._first_token()


def _site_url(arm_url: str, site_id: str) -> str:
    return f"{arm_url.rstrip('/')}{site_id}?api-version={WEB_API_VERSION}"


def set_public_network_access(arm_url: str, site_id: str, value: str, token: str) -> None:
    """Set the app's `publicNetworkAccess` and wait until ARM reports it.

    A PATCH with only this property (ARM's documented `Web Apps - Update`), never a read-modify-PUT
    of the site: a PUT would send back platform-set siteConfig values, such as
    functionAppScaleLimit, that Flex rejects (Azure/azure-functions-host#10643).
    """
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    body = json.dumps({"properties": {"publicNetworkAccess": value}}).encode()
    _send(urllib.request.Request(_site_url(arm_url, site_id), data=body, method="PATCH", headers=headers), f"setting publicNetworkAccess={value} on {site_id}", 60)
    deadline = time.monotonic() + ACCESS_SETTLE_SECONDS
    while True:
        request = urllib.request.Request(_site_url(arm_url, site_id), method="GET", headers=headers)
        _, site = _send(request, f"reading {site_id}", 60)
        current = json.loads(site or b"{}").get("properties", {}).get("publicNetworkAccess")
        if current == value:
            return
        if time.monotonic() >= deadline:
            raise PublishError(0, f"{site_id} still reports publicNetworkAccess={current!r} {ACCESS_SETTLE_SECONDS} s after it was set to {value!r}; set it by hand")
        time.sleep(OPEN_RETRY_INTERVAL_SECONDS)


def _post_package(scm: ScmSite, data: bytes, deadline: float) -> tuple[int, str]:
    """POST the package; (HTTP status, the deployment id OneDeploy answers with, if any)."""
    while True:
        try:
            status, body = scm.request("POST", PUBLISH_PATH, f"OneDeploy publish to {scm.url}", PUBLISH_TIMEOUT_SECONDS, data, "application/zip")
        except PublishError as error:
            if error.status == 403 and time.monotonic() < deadline:  # the window is not open yet
                time.sleep(OPEN_RETRY_INTERVAL_SECONDS)
                continue
            raise
        if status not in (200, 202):
            raise PublishError(status, f"OneDeploy publish to {scm.url} answered HTTP {status}")
        return status, _deployment_id(body)


def _deployment_id(body: bytes) -> str:
    """The new deployment's id, which a 202 answers with (azure-cli logs it as such): bare, quoted or as `{"id": ...}`."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    if isinstance(parsed, dict):
        parsed = parsed.get("id", "")
    return parsed if isinstance(parsed, str) and re.fullmatch(r"[A-Za-z0-9-]{8,64}", parsed) else ""


def _log_url(scm: ScmSite, record: dict, deployment_id: str) -> str:
    found = record.get("log_url")
    return found if found else f"{scm.url}/api/deployments/{record.get('id') or deployment_id or 'latest'}/log"


def await_deployment(scm: ScmSite, deployment_id: str = "") -> None:
    """Poll the latest deployment until it succeeds; raise, naming its log, if it fails or outlasts DEPLOY_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + DEPLOY_TIMEOUT_SECONDS
    record: dict = {}
    while True:
        try:
            _, body = scm.request("GET", STATUS_PATH, f"reading the deployment status on {scm.url}", 60)
            latest = json.loads(body or b"{}")
        except PublishError as error:
            if error.status != 404:  # 404: the deployment record does not exist yet
                raise
            latest = {}
        # Until the new deployment is listed, `latest` is the previous one: never take its result.
        if latest and (not deployment_id or str(latest.get("id", "")).lower() == deployment_id.lower()):
            record = latest
            state = record.get("status")
            if state == DEPLOY_SUCCEEDED:
                return
            if state in DEPLOY_FAILED:
                raise PublishError(
                    0,
                    f"deployment {record.get('id') or deployment_id} to {scm.url} {DEPLOY_FAILED[state]}: {record.get('status_text') or 'no status text'}. "
                    f"Build log: {_log_url(scm, record, deployment_id)} (the package hash is not stored, so the next `pulumi up` publishes again)",
                )
        if time.monotonic() >= deadline:
            raise PublishError(
                0,
                f"deployment {deployment_id or record.get('id') or '(not listed yet)'} to {scm.url} did not finish within {DEPLOY_TIMEOUT_SECONDS} s "
                f"(last status {record.get('status')!r}). Build log: {_log_url(scm, record, deployment_id)}",
            )
        time.sleep(STATUS_POLL_SECONDS)


def _deploy(scm: ScmSite, data: bytes, open_deadline: float) -> None:
    status, deployment_id = _post_package(scm, data, open_deadline)
    if status == 202:  # accepted: the remote build runs in the background
        await_deployment(scm, deployment_id)


def publish(scm_url: str, package_path: str, package_sha256: str, site_id: str = "", arm_url: str = ARM_ENDPOINT) -> None:
    """Publish the package through OneDeploy inside a deploy window and wait for the deployment; raise with the service's answer on failure.

    With `site_id`, the app's public network access is opened for the deployment and closed again
    afterwards, also when it fails.
    """
    data = Path(package_path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != package_sha256:
        raise RuntimeError(f"package {package_path} changed since the program ran (sha256 {actual}, expected {package_sha256})")
    scm = ScmSite(scm_url)
    if not site_id:
        _deploy(scm, data, time.monotonic())
        return
    set_public_network_access(arm_url, site_id, "Enabled", access_token(ARM_SCOPE))
    try:
        _deploy(scm, data, time.monotonic() + OPEN_WAIT_SECONDS)
    finally:
        # A fresh token: a long build may outlive the first one.
        set_public_network_access(arm_url, site_id, "Disabled", access_token(ARM_SCOPE))


class OneDeployProvider(pulumi.dynamic.ResourceProvider):
    """Publishes on create and whenever the package hash or the SCM host changes."""

    serialize_as_secret_always = False  # it captures no secret: the token is fetched at deploy time

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        publish(props["scm_url"], props["package_path"], props["package_sha256"], props.get("site_id", ""), props.get("arm_url", ARM_ENDPOINT))
        return pulumi.dynamic.CreateResult(id_=f"{props['scm_url']}#{props['package_sha256']}", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in ("scm_url", "site_id", "package_sha256") if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        publish(news["scm_url"], news["package_path"], news["package_sha256"], news.get("site_id", ""), news.get("arm_url", ARM_ENDPOINT))
        return pulumi.dynamic.UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: the package goes with the app and its deployment container."""


class FunctionAppPackage(pulumi.dynamic.Resource, module="cloudqueue", name="FunctionAppPackage"):
    """The code package published to one Flex Consumption Function App."""

    scm_url: pulumi.Output[str]
    """The app's SCM (Kudu) base URL the package was published to."""
    package_sha256: pulumi.Output[str]
    """Hex SHA-256 of the published package."""

    def __init__(
        self,
        name: str,
        scm_url: pulumi.Input[str],
        package_path: str,
        package_sha256: str,
        site_id: pulumi.Input[str] = "",
        arm_url: str = ARM_ENDPOINT,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        # site_id: the app's ARM id, whose public network access the deploy window opens and closes.
        inputs = {"scm_url": scm_url, "package_path": package_path, "package_sha256": package_sha256, "site_id": site_id, "arm_url": arm_url}
        super().__init__(OneDeployProvider(), name, inputs, opts)
