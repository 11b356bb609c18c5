"""The layers hold: import-linter's contracts (pyproject.toml) are kept, they
cover every module of services/, and they break when someone imports upwards
or in a circle. docs/architecture.md draws the order."""

import ast
import pathlib
import shutil
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINT_IMPORTS = pathlib.Path(sys.executable).with_name("lint-imports")
CONTRACT_LAYERS = "The rules layer runs one way (services/, highest first)"
CONTRACT_CYCLES = "No import cycles inside the packages of services/"


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def _services_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "services").rglob("*.py"):
        parts = path.relative_to(ROOT / "services").with_suffix("").parts
        if parts[-1] != "__init__":
            modules.add(".".join(parts))
    return modules


def _lint(tree: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path):
    """The three root packages and pyproject.toml, copied, to break on purpose."""
    for name in ("backend", "services", "workers"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_of_services_has_its_layer():
    # given the layers contract
    (layers,) = [c for c in _contracts() if c["name"] == CONTRACT_LAYERS]
    named = {m.strip() for layer in layers["layers"] for m in layer.split("|")}

    # then it names every module of services/, and nothing that does not exist
    assert named == _services_modules()


def test_an_upward_import_breaks_the_layers(tree_copy):
    # given an admission module that reaches up into the follow-up rules
    episodes = tree_copy / "services" / "episodes.py"
    episodes.write_text(episodes.read_text() + "\nfrom services.aftercare import follow_ups\n")

    # when the contracts are checked
    result = _lint(tree_copy)

    # then the layers contract is broken, naming the import
    assert result.returncode != 0
    assert f"{CONTRACT_LAYERS} BROKEN" in result.stdout
    assert "services.episodes -> services.aftercare.follow_ups" in result.stdout


def test_a_cycle_inside_a_package_breaks_the_cycle_contract(tree_copy):
    # given two modules of the aftercare package that import each other
    package = tree_copy / "services" / "aftercare"
    (package / "helpers.py").write_text("from services.aftercare import plans\n")
    plans = package / "plans.py"
    plans.write_text(plans.read_text() + "\nfrom services.aftercare import helpers\n")

    # when the contracts are checked
    result = _lint(tree_copy)

    # then the cycle contract is broken
    assert result.returncode != 0
    assert f"{CONTRACT_CYCLES} BROKEN" in result.stdout


def test_services_import_no_request():
    # import-linter forbids whole external packages only (DRF, Celery's tasks
    # are covered there); django.http is a part of Django, checked here.
    offenders = []
    for path in (ROOT / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("django.http")]
    assert offenders == []
