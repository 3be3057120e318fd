"""Publishing a Function App's code package on Flex Consumption, as a Pulumi dynamic resource.

Flex Consumption does not run from `WEBSITE_RUN_FROM_PACKAGE` and has no `/api/zipdeploy`. Its
code goes through the OneDeploy endpoint on the app's SCM host, `POST /api/publish?type=zip`
with `Content-Type: application/zip`, which stores the package in the app's deployment blob
container (the Terraform azurerm provider moved to exactly this in its PR #31937). The request
carries an Entra ID bearer token for Azure Resource Manager, taken with `azure-identity`'s
DefaultAzureCredential, so no publishing credential or SAS is ever created. Python apps ask for
a remote build, so the plan installs `requirements.txt` for its own platform.

The resource republishes only when the package hash (or the app) changes, so `pulumi up`
shows no diff until the code does.
"""

from __future__ import annotations

import hashlib
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


def access_token() -> str:
    """An ARM access token for whoever runs `pulumi up` (CLI login, environment or managed identity)."""
    from azure.identity import DefaultAzureCredential  # only deployments pay for the import

    return DefaultAzureCredential().get_token(ARM_SCOPE).token


def publish(scm_url: str, package_path: str, package_sha256: str) -> None:
    """POST the package to the app's OneDeploy endpoint; raise with the service's answer on failure."""
    data = Path(package_path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != package_sha256:
        raise RuntimeError(f"package {package_path} changed since the program ran (sha256 {actual}, expected {package_sha256})")
    request = urllib.request.Request(
        scm_url.rstrip("/") + PUBLISH_PATH,
        data=data,
        method="POST",
        headers={"Content-Type": "application/zip", "Authorization": f"Bearer {access_token()}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=PUBLISH_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise RuntimeError(f"OneDeploy publish to {scm_url} failed: HTTP {error.code} {detail}") from None
    if status not in (200, 202):
        raise RuntimeError(f"OneDeploy publish to {scm_url} answered HTTP {status}")


class OneDeployProvider(pulumi.dynamic.ResourceProvider):
    """Publishes on create and whenever the package hash or the SCM host changes."""

    serialize_as_secret_always = False  # it captures no secret: the token is fetched at deploy time

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        publish(props["scm_url"], props["package_path"], props["package_sha256"])
        return pulumi.dynamic.CreateResult(id_=f"{props['scm_url']}#{props['package_sha256']}", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in ("scm_url", "package_sha256") if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        publish(news["scm_url"], news["package_path"], news["package_sha256"])
        return pulumi.dynamic.UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: the package goes with the app and its deployment container."""


class FunctionAppPackage(pulumi.dynamic.Resource, module="cloudqueue", name="FunctionAppPackage"):
    """The code package published to one Flex Consumption Function App."""

    scm_url: pulumi.Output[str]
    """The app's SCM (Kudu) base URL the package was published to."""
    package_sha256: pulumi.Output[str]
    """Hex SHA-256 of the published package."""

    def __init__(self, name: str, scm_url: pulumi.Input[str], package_path: str, package_sha256: str, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(
            OneDeployProvider(),
            name,
            {"scm_url": scm_url, "package_path": package_path, "package_sha256": package_sha256},
            opts,
        )
