"""A non-editable install ships every layer and the migrations: the wheel alone migrates a database."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_wheel_alone_migrates_a_database(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "tests", "bench"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, timeout=180, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("gga_gateway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in ("kernel", "keys", "store", "admin_api", "gateway", "gga"):
        assert f"{package}/__init__.py" in names
    assert "store/migrations/script.py.mako" in names and "store/migrations/versions/0001_people_side.py" in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    run = subprocess.run(  # from another folder, the unpacked wheel first on the path
        [sys.executable, "-c", "import sys, store; from gga.cli import app; print(store.__file__, file=sys.stderr); "
         "app(['db', 'upgrade', '--data-dir', 'data'])"],
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert str(tmp_path / "site") in run.stderr and "database at head" in run.stdout
    assert (tmp_path / "data" / "gga.db").stat().st_size > 0
