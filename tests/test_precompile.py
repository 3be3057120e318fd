"""`make test` compiles first what the suite imports (tests/precompile.py): its folders must follow the SDKs and the components."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import precompile
from components.tools.mocks import aws, azure, gcp

SITE = Path(sysconfig.get_paths()["purelib"])
PACKAGES = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "gcp": "pulumi_gcp"}


def test_every_provider_module_the_components_register_or_look_up_from_is_compiled():
    for mocks in (aws, azure, gcp):
        for token in [*mocks.OUTPUTS, *getattr(mocks, "INVOKE_RESULTS", {})]:
            provider, module = token.split(":")[0], token.split(":")[1].split("/")[0]
            if provider in PACKAGES and module != "index":
                folder = module if (SITE / PACKAGES[provider] / module).is_dir() else f"{module}_"  # lambda -> lambda_
                assert folder in precompile.SERVICES[PACKAGES[provider]].split(), token


def test_every_listed_tree_and_folder_exists_and_holds_modules():
    files = set(precompile.sources(SITE))
    for tree in precompile.TREES:
        assert any(name.startswith(f"{SITE / tree}/") for name in files), tree
    for module in precompile.MODULES:
        assert (SITE / f"{module}.py").is_file(), module
    for package, services in precompile.SERVICES.items():
        for folder in services.split():
            modules = {str(path) for path in (SITE / package / folder).glob("*.py")}
            assert modules and modules <= files, f"{package}/{folder}"
