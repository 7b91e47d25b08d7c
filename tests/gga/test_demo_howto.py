"""The demo how-to (<data>/demo/README.txt) run as written: its commands, in order, in one bash shell started in a
folder that looks like a fresh clone (.venv), against a real `gga serve --demo`; each channel's submission is read
back as an accepted ACRF, and the ACRF's signature checks with openssl and the published certificate."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

from tests.gga.test_client import start_demo


def commands(howto: str) -> list[str]:
    """The indented (four spaces) lines, a line ending in a backslash joined with the next."""
    found: list[str] = []
    continued = False
    for line in howto.splitlines():
        if continued:
            found[-1] += "\n" + line
        elif line.startswith("    ") and line.strip():
            found.append(line[4:])
        else:
            continue
        continued = line.endswith("\\")
    return found


@pytest.fixture
def demo(db, database_url, tmp_path):  # type: ignore[no-untyped-def]
    server = start_demo(database_url, tmp_path / "server")
    yield server
    server.stop()


@pytest.mark.skipif(not all(shutil.which(t) for t in ("sftp", "curl", "openssl", "lftp", "python3")),
                    reason="the how-to needs OpenSSH sftp, curl, openssl and lftp")
def test_every_step_of_the_howto_runs_as_written_and_reads_an_accepted_acrf_per_channel(demo, tmp_path):
    howto = (demo.data_dir / "demo" / "README.txt").read_text()
    steps = commands(howto)
    assert any("sftp" in s for s in steps) and any("--ssl-reqd" in s for s in steps) and \
        any("/REST/batch/v1/T/files/" in s for s in steps) and any("openssl cms -verify" in s for s in steps)
    assert all(not re.search(r"(^|[;|&(]\s*)gga ", s) for s in steps)  # .venv/bin/gga, never a bare gga
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GGA_")}
    shell = subprocess.run(["bash", "-e", "-x", "-s"], input="\n".join(steps) + "\n", cwd=clone, env=env,
                           capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0, shell.stderr[-4000:]
    acrfs = [fromstring(block) for block in re.findall(r"<ACRF>.*?</ACRF>", shell.stdout, re.S)]
    accepted = {a.findtext("FileName")[-5] for a in acrfs if a.findtext("ResultCode") == "1"}
    assert accepted == {"1", "2", "3"}, shell.stdout  # SEQ + 1 (SFTP), 2 (FTPS), 3 (web service)
    assert "CMS Verification successful" in shell.stderr
    assert '"ticket"' in shell.stdout and '"acrf_channel":"SFTP"' in shell.stdout  # the web service's GO answer
    assert '"result": "accepted"' in shell.stdout  # the one-liner
