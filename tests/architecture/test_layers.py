"""The module graph points one way (docs/architecture.md), checked by import-linter.

These tests run `lint-imports` on the real tree and on a copy with one wrong-way import, so a
contract that stopped catching violations would fail here too."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "integrations", "finance", "health", "crm", "calendar_app", "coop"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )


def _copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tree / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "static"),
        )
    return tree


def test_the_tree_keeps_the_layers_contract(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Modules import downward only KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_way_import"),
    [
        ("coop/consent.py", "from health import services"),
        ("calendar_app/selectors.py", "from crm.models import Contact"),
        ("crm/services.py", "from finance.services import revenue_book_won_deal"),
        ("health/services.py", "from finance import services"),
    ],
)
def test_a_wrong_way_import_breaks_the_contract_even_inside_a_function(
    tmp_path, module, wrong_way_import
):
    tree = _copy_tree(tmp_path)
    with (tree / module).open("a") as source:
        source.write(f"\n\ndef _wrong_way():\n    {wrong_way_import}\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "Modules import downward only BROKEN" in result.stdout
