"""The package works when installed from a wheel, not only from the checkout (issue 11, point 8).

Builds the wheel from a copy of the project's build inputs, installs it into a fresh virtualenv whose only
other packages are this test environment's dependencies (reached through a ``.pth`` file, so nothing is
downloaded), and runs ``connector demo`` and ``connector mapping check`` there from a folder outside the
checkout: the shipped mappings and workbooks must come from inside the installed package.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "connector", "mappings", "templates")

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: int = 300,
         extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra_env or {})
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh virtualenv with the project's wheel installed."""
    return _install(tmp_path_factory.mktemp("installed"))


@pytest.fixture(scope="module")
def installed_without_compiler(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, the wheel built where no C compiler works (``CC=false``): without the native record encoding."""
    return _install(tmp_path_factory.mktemp("installed-no-cc"), {"CC": "false"})


def _install(tmp: Path, build_env: dict[str, str] | None = None) -> Path:
    src = tmp / "src"
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    wheels = tmp / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                  "-w", str(wheels), str(src)], cwd=tmp, extra_env=build_env)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("connector-*.whl")

    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp)
    # The dependencies: this environment's site-packages, added after the fresh one (no download).
    Path(purelib.stdout.strip(), "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                 str(wheel)], cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


def test_the_wheel_ships_the_mappings_and_workbooks(installed: Path, tmp_path: Path) -> None:
    probe = _run([str(installed / "python"), "-c",
                  "import connector; from connector.mapping import shipped_mapping; "
                  "from connector.shipped import sample_workbook; "
                  "print(connector.__file__); print(shipped_mapping('elebne')); print(sample_workbook())"],
                 cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    venv = installed.parent.resolve()
    for line in probe.stdout.splitlines():
        path = Path(line).resolve()
        assert path.is_relative_to(venv), f"{path} is not inside the installed package"
        assert path.is_file()


def test_connector_demo_runs_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    demo = _run([str(installed / "connector"), "demo"], cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "first run: everything is new" in demo.stdout
    assert "second run: nothing changed, nothing is sent" in demo.stdout
    # the sample's archived basket, never listed on the sandbox, is not created: its 3 rows skipped, exit 0
    assert demo.stdout.count("exit code 0: nothing failed; 3 row(s) skipped") == 2
    assert "products created   │ 10" in demo.stdout


def test_a_mapping_extending_a_shipped_one_checks_from_the_installed_package(installed: Path,
                                                                             tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n      brand: null\n")
    check = _run([str(installed / "connector"), "mapping", "check", str(mine)], cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "valid mapping for elebne" in " ".join(check.stdout.split())


def test_the_wheel_builds_the_native_record_encoding(installed: Path, tmp_path: Path) -> None:
    """setup.py builds ``connector/sync/_record_bytes.c`` into the wheel (this machine has a C compiler), and the
    installed package fingerprints records with it (``fingerprint._native``), not with the Python encoding."""
    probe = _run([str(installed / "python"), "-c",
                  "from connector.sync import _record_bytes, fingerprint; "
                  "print(_record_bytes.__file__); print(fingerprint._native is _record_bytes.encode)"], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    path, uses_it = probe.stdout.split()
    assert Path(path).resolve().is_relative_to(installed.parent.resolve()) and path.endswith(".so")
    assert uses_it == "True"


def test_without_a_c_compiler_the_wheel_still_builds_and_works(installed_without_compiler: Path,
                                                               tmp_path: Path) -> None:
    """The native module is optional: the wheel builds without it, records are fingerprinted by the Python
    encoding, and the demo runs as from the wheel built with it (its second run sends nothing)."""
    bin_dir = installed_without_compiler
    probe = _run([str(bin_dir / "python"), "-c", "from connector.sync import fingerprint; "
                  "print(fingerprint.encoding_in_use())"], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    assert "Python encoding" in probe.stdout
    demo = _run([str(bin_dir / "connector"), "demo"], cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "second run: nothing changed, nothing is sent" in demo.stdout
