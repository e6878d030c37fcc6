"""The commands the README gives a newcomer, run as written (or parsed by the command they name)."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class

from tests import services
from tests.demo.test_demo_customer_recs import SLICE

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def code_lines(text: str) -> list[str]:
    """The README's indented code lines, with backslash continuations joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        if not raw.startswith("    ") and not current:
            continue
        part = raw.strip()
        current = f"{current} {part}" if current else part
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        lines.append(current)
        current = ""
    return lines


def api_examples() -> list[tuple[str, tuple[str, ...]]]:
    """(command, the statuses it may answer) for every curl the README gives against the demo server: 200 or
    201, 403 under a comment that says they answer 403, and 404 too where the comment says no_forecast."""
    examples, expected, in_comment = [], ("200", "201"), False
    for line in code_lines(README):
        if line.startswith("#"):
            # A comment says what the commands under it answer; its continuation lines keep what it said.
            said = ("403",) if "answer 403" in line else ("200", "404") if "404 no_forecast" in line else None
            expected = said or (expected if in_comment else ("200", "201"))
            in_comment = True
            continue
        in_comment = False
        if line.startswith("curl") and "127.0.0.1:8000" in line:
            examples.append((line, expected))
    return examples


def test_the_readme_names_only_real_manage_py_commands_and_their_options_parse():
    commands = get_commands()
    found = re.findall(r"\.venv/bin/python manage\.py ([a-z_]+)([^`\n#]*)", README)
    assert len(found) >= 10
    for name, rest in found:
        assert name in commands, f"README: manage.py {name} is not a command"
        args = rest.replace("[", " ").replace("]", " ").replace("…", " ").split()
        if any(a in {"KIND", "N"} for a in args):
            continue
        # Placeholders: the first of alternatives (read|write|ai), and example values for names in capitals.
        args = [a.split("|")[0] for a in args]
        args = [{"SET": "chat-intents", "FILE": "x.csv", "MERCHANT_SLUG": "aisle-gifts"}.get(a, a) for a in args]
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"README: manage.py {name} {' '.join(args)} does not parse")


def test_the_readme_always_says_which_python():
    """A newcomer has no activated virtual environment: every command names .venv/bin/python."""
    bare = re.findall(r"(?<![/\w.])python(?:3)? (?:manage\.py|-m|-c)[^\n`]*", README)
    assert bare == []


def test_make_demo_serves_and_prints_links_on_the_port_and_host_it_is_given():
    services.need(shutil.which("make") is not None, "needs make")
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "-o", ".venv/bin/python", "demo", "PORT=8001", "HOST=0.0.0.0"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert "demo_credentials --host 0.0.0.0 --port 8001" in dry
    assert "runserver --noreload --skip-checks 0.0.0.0:8001" in dry
    assert "DEBUG=1" in dry  # the README says the demo runs with DEBUG=1
    assert "make demo PORT=8001 HOST=0.0.0.0" in README and "DEBUG=1" in README


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_readme_api_examples_work_as_written_against_a_fresh_demo(live_server, settings, tmp_path):
    """Every curl of the README, in its order, against a freshly loaded demo shop (a slice of the Online
    Retail file) with the demo merchant's key, as a newcomer pastes them (only the port differs)."""
    services.need(shutil.which("curl") is not None, "needs curl")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEMO_API_KEY_FILE = tmp_path / "var" / "demo_api_key.txt"
    call_command("load_demo", "--data", str(SLICE), "--no-progress", stdout=StringIO(), stderr=StringIO())
    key = settings.DEMO_API_KEY_FILE.read_text().strip()
    examples = api_examples()
    assert len(examples) >= 16 and sum(codes == ("403",) for _, codes in examples) == 2
    for command, codes in examples:
        runnable = command.replace("http://127.0.0.1:8000", live_server.url)
        status = subprocess.run(
            ["bash", "-c", f"{runnable} -o /dev/null -w '%{{http_code}}'"],
            env={"KEY": key, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60,
        ).stdout
        assert status in codes, f"README: {shlex.split(command)[:6]}… answered {status}, not {' or '.join(codes)}"


def test_the_package_metadata_gives_setuptools_nothing_to_warn_about():
    """`pip install` printed screens of setuptools deprecation warnings about `project.license` as a table:
    the licence is an SPDX string (setuptools >= 77), with no licence classifiers beside it."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert isinstance(project["license"], str) and project["license"] == "MIT"
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77
               for r in pyproject["build-system"]["requires"])
