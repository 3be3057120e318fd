"""Publishing a Function App's code package on Flex Consumption, as a Pulumi dynamic resource.

Flex Consumption does not run from `WEBSITE_RUN_FROM_PACKAGE` and has no `/api/zipdeploy`. Its
code goes through the OneDeploy endpoint on the app's SCM host, `POST /api/publish?type=zip`
with `Content-Type: application/zip`, which stores the package in the app's deployment blob
container (the Terraform azurerm provider moved to exactly this in its PR #31937). The request
carries an Entra ID bearer token for Azure Resource Manager, taken with `azure-identity`'s
DefaultAzureCredential, so no publishing credential or SAS is ever created. Python apps ask for
a remote build, so the plan installs `requirements.txt` for its own platform.

The app keeps `publicNetworkAccess: Disabled` (CKV_AZURE_222), which closes its SCM site as well.
Flex Consumption takes code only through SCM, so the publish step opens a deploy window: it sets
`publicNetworkAccess: Enabled` through ARM, posts the package (retrying while the change
propagates and SCM still answers 403), and sets it back to `Disabled` whether the publish worked
or not. During the window the main site still denies every address and requires a client
certificate, and SCM accepts Entra ID tokens only.

The resource republishes only when the package hash (or the app) changes, so `pulumi up`
shows no diff until the code does.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi.dynamic

# Entra ID scope the SCM site accepts for deployments (the one `az functionapp deploy` uses).
ARM_SCOPE = "https://management.azure.com/.default"
PUBLISH_PATH = "/api/publish?type=zip&RemoteBuild=true&Deployer=cloudqueue"
# A remote build installs requirements on the plan before answering.
PUBLISH_TIMEOUT_SECONDS = 600
ARM_ENDPOINT = "https://management.azure.com"
# The Microsoft.Web API version the installed azure-native SDK's WebApp uses.
WEB_API_VERSION = "2025-05-01"
# Opening the site takes effect within seconds to about a minute; SCM answers 403 until then.
OPEN_WAIT_SECONDS = 180
OPEN_RETRY_INTERVAL_SECONDS = 5


def access_token() -> str:
    """An ARM access token for whoever runs `pulumi up` (CLI login, environment or managed identity)."""
    from azure.identity import DefaultAzureCredential  # only deployments pay for the import

    return DefaultAzureCredential().get_token(ARM_SCOPE).token


def _send(request: urllib.request.Request, what: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise PublishError(error.code, f"{what} failed: HTTP {error.code} {detail}") from None


class PublishError(RuntimeError):
    """A request of the publish step that the service refused; `status` is its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def set_public_network_access(arm_url: str, site_id: str, value: str, token: str) -> None:
    """PATCH the app's `publicNetworkAccess` through Azure Resource Manager."""
    request = urllib.request.Request(
        f"{arm_url.rstrip('/')}{site_id}?api-version={WEB_API_VERSION}",
        data=json.dumps({"properties": {"publicNetworkAccess": value}}).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    _send(request, f"setting publicNetworkAccess={value} on {site_id}", 60)


def _post_package(scm_url: str, data: bytes, token: str, deadline: float) -> None:
    while True:
        request = urllib.request.Request(
            scm_url.rstrip("/") + PUBLISH_PATH,
            data=data,
            method="POST",
            headers={"Content-Type": "application/zip", "Authorization": f"Bearer {token}"},
        )
        try:
            status = _send(request, f"OneDeploy publish to {scm_url}", PUBLISH_TIMEOUT_SECONDS)
        except PublishError as error:
            if error.status == 403 and time.monotonic() < deadline:  # the window is not open yet
                time.sleep(OPEN_RETRY_INTERVAL_SECONDS)
                continue
            raise
        if status not in (200, 202):
            raise RuntimeError(f"OneDeploy publish to {scm_url} answered HTTP {status}")
        return


def publish(scm_url: str, package_path: str, package_sha256: str, site_id: str = "", arm_url: str = ARM_ENDPOINT) -> None:
    """POST the package to the app's OneDeploy endpoint inside a deploy window; raise with the service's answer on failure.

    With `site_id`, the app's public network access is opened for the upload and closed again
    afterwards, also when the upload fails.
    """
    data = Path(package_path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != package_sha256:
        raise RuntimeError(f"package {package_path} changed since the program ran (sha256 {actual}, expected {package_sha256})")
    token = access_token()
    if not site_id:
        _post_package(scm_url, data, token, time.monotonic())
        return
    set_public_network_access(arm_url, site_id, "Enabled", token)
    try:
        _post_package(scm_url, data, token, time.monotonic() + OPEN_WAIT_SECONDS)
    finally:
        set_public_network_access(arm_url, site_id, "Disabled", token)


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
