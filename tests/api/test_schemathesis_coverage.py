"""Schemathesis's own runner walks the whole schema (the ai endpoints too) in its coverage phase: the
deterministic boundary and wrong-type cases (an object where a string belongs, and so on), checking that
nothing answers 5xx."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import keyed_client, make_order


@pytest.mark.timeout(600)  # every operation of the whole schema (45 of the merchant API, the ai ones)
@pytest.mark.django_db(transaction=True)
def test_schemathesis_coverage_phase_finds_no_server_errors(live_server, settings_override, merchant, product, tmp_path):
    make_order([(product, 1)])
    client = keyed_client(merchant)
    # Built once per process (the live server's too): here, rather than within the CLI's 10 s schema timeout.
    assert client.get("/api/v1/schema/?format=json").status_code == 200
    cli = Path(sys.executable).with_name("schemathesis")
    command = [
        str(cli), "run", f"{live_server.url}/api/v1/schema/?format=json", "--url", live_server.url,
        "--phases", "coverage", "--checks", "not_a_server_error", "--workers", "1", "--no-color",
        "-H", f"Authorization: Bearer {client.raw_key}", "--request-timeout", "30",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=540, cwd=tmp_path)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "coverage" in result.stdout.lower() and "Server error" not in result.stdout, report
