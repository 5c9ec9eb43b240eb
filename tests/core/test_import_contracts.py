"""The import contracts of pyproject.toml (import-linter): the real tree keeps them, a deliberately
wrong import in a scratch copy breaks them, and every module of the app sits in a layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: Glue above every layer (app config, model and URL aggregation) and the migrations.
UNLAYERED = {"promotions", "promotions.apps", "promotions.models", "promotions.urls", "promotions.migrations"}


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def layer_modules() -> list[list[str]]:
    (layers,) = [c["layers"] for c in contracts() if c["id"] == "layers"]
    return [[name.strip() for name in layer.replace("|", ":").split(":")] for layer in layers]


def scratch_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "promotions", tmp_path / "promotions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint(tree: Path) -> subprocess.CompletedProcess:
    # The scratch tree first on the path, so the graph is built from its files and not the real ones.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "pyproject.toml"], cwd=tree, env=env, capture_output=True, text=True
    )


def test_the_tree_keeps_the_contracts():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def lint_with(tmp_path: Path, module: str, line: str) -> str:
    """lint-imports' report on a scratch copy of the app with ``line`` added to ``module``; it must fail."""
    tree = scratch_copy(tmp_path)
    path = tree / "promotions" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint(tree)
    assert result.returncode == 1, result.stdout
    return result.stdout


def test_django_in_a_pure_ml_module_breaks_the_pure_contract(tmp_path):
    report = lint_with(tmp_path, "bandits/arms.py", "import django")
    assert "The pure ML packages import neither Django nor the rest of promotions BROKEN" in report
    assert "promotions.bandits.arms -> django" in report


def test_an_upward_import_breaks_the_layers(tmp_path):
    report = lint_with(tmp_path, "visitors/recent.py", "from promotions.serving import promotions as _up")
    assert "promotions.visitors is not allowed to import promotions.serving" in report


@pytest.fixture(scope="module")
def graph():
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph("promotions", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def test_every_module_is_in_exactly_one_layer(graph):
    layered = [name for layer in layer_modules() for name in layer]
    assert len(layered) == len(set(layered))
    unplaced = []
    for module in sorted(graph.modules):
        placed = any(module == name or module.startswith(name + ".") for name in layered)
        glue = module in UNLAYERED or module.startswith("promotions.migrations.")
        # A package's __init__ that only re-exports its own modules belongs to no single layer.
        package = any(name.startswith(module + ".") for name in layered)
        if not (placed or glue or package):
            unplaced.append(module)
    assert unplaced == [], f"place these modules in a layer of pyproject.toml: {unplaced}"


def test_the_pure_ml_contract_names_the_bottom_layer(graph):
    (pure,) = [c for c in contracts() if c["id"] == "pure-ml"]
    assert sorted(pure["source_modules"]) == sorted(layer_modules()[-1])
    # "The rest of promotions": every layered module above the pure layer is forbidden to it.
    above = {name for layer in layer_modules()[:-1] for name in layer}
    forbidden = set(pure["forbidden_modules"])
    assert all(any(name == f or name.startswith(f + ".") for f in forbidden) for name in above)
