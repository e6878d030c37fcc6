"""`make demo` on a fresh clone: time to the first page, then to SASRec's promotion in the background.

    .venv/bin/python bench/demo_first_page.py --dir /tmp/team/demo-1 --port 8021 \
        [--repo .] [--branch demo] [--venv .venv] [--shared ../shared] [--demo-args "--limit 3000"] \
        [--max-minutes 19] [--json out.json]

What a newcomer does after the install: `git clone`, then `make demo`. The install itself is left out
(it is the same for everyone and mostly download time): the clone gets the given, already installed
virtual environment as a `.venv` link and `make -o .venv/.installed demo PORT=…` (make takes the
install as done). `../shared` beside the clone points at the shared data, as in a checkout beside it.

Timeline, in seconds from the start of `make demo`: each command make echoes (`migrate`, `load_demo`,
the quick trainings, `demo_credentials`, `runserver`) as it appears in make's output, the first answer
200 to `GET /` (polled every 0.5 s), a few other pages once it is up, then every training run of the
background process as the SQLite database records it (kind, status, epochs, how it ended), until the
SASRec version is live (its test NDCG@10 and its best validation NDCG@10 per epoch) or `--max-minutes`
is reached. The server and every process of the demo are stopped at the end: make runs in its own
session and process group, which is killed; any process left whose working directory is inside the
clone is killed too (none of anyone else's). With --retrain, SASRec is then trained once more in the
clone (`ai_train sasrec --wait`, a warm start from the live version, as a nightly retrain would) and timed.

Prints the timeline and a JSON summary (also written to --json).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PAGES_AFTER = ("/", "/admin/login/", "/api/v1/docs/", "/favicon.ico")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(cmd: list[str], **kwargs) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs).stdout.strip()


def status_of(url: str, timeout: float = 10.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


class Timeline:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.events: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def now(self) -> float:
        return round(time.monotonic() - self.start, 1)

    def mark(self, what: str) -> float:
        at = self.now()
        with self.lock:
            self.events.append((at, what))
        print(f"[{at:7.1f} s] {what}  (load {loadavg()})", flush=True)
        return at


def follow_make(process: subprocess.Popen, log_path: Path, timeline: Timeline) -> None:
    """Copy make's output to the log, marking each command make echoes."""
    assert process.stdout is not None
    with log_path.open("w") as log:
        for line in process.stdout:
            log.write(line)
            log.flush()
            text = line.strip()
            if text.startswith((".venv/bin/python ", "DEBUG=1 .venv/bin/python", "(.venv/bin/python")):
                timeline.mark("make: " + text[:110])


def training_runs(db: Path) -> list[dict]:
    if not db.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        con.row_factory = sqlite3.Row
        rows = con.execute(
            "SELECT r.id, r.kind, r.status, r.epoch, r.status_detail, r.metrics, r.loss_curve, r.started_at, "
            "r.finished_at, v.version, v.status AS version_status, v.metrics AS version_metrics, v.promoted_at "
            "FROM ai_trainingrun r LEFT JOIN ai_modelversion v ON v.training_run_id = r.id ORDER BY r.id"
        ).fetchall()
        con.close()
    except sqlite3.Error:
        return []  # not migrated yet, or busy: asked again at the next poll
    return [dict(row) for row in rows]


def best_validation(run: dict) -> dict:
    """The best validation NDCG@10 of the run's per-epoch points, with its epoch and the epochs run."""
    points = json.loads(run.get("loss_curve") or "[]")
    scored = [p for p in points if p.get("val_ndcg") is not None]
    if not scored:
        return {}
    best = max(scored, key=lambda p: p["val_ndcg"])
    return {
        "best_val_ndcg@10": round(float(best["val_ndcg"]), 4),
        "best_epoch": best.get("epoch"),
        "val_ndcg_per_epoch": [round(float(p["val_ndcg"]), 4) for p in scored],
    }


def processes_under(root: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == root or root in cwd.parents:
            found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen, clone: Path) -> list[int]:
    """Stop make's process group, then whatever still runs inside the clone; returns what needed a kill."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
    time.sleep(1)
    leftover = processes_under(clone)
    for pid in leftover:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return leftover


def prepare_clone(args: argparse.Namespace) -> Path:
    """A fresh clone in DIR/aisle, the installed venv linked in as .venv and DIR/shared beside it."""
    base = args.dir.resolve()
    clone = base / "aisle"
    if clone.exists():
        shutil.rmtree(clone)
    base.mkdir(parents=True, exist_ok=True)
    branch = ["--branch", args.branch] if args.branch else []
    run(["git", "clone", "-q", *branch, args.repo, str(clone)])
    if not (base / "shared").exists():
        (base / "shared").symlink_to(args.shared.resolve())
    (clone / ".venv").symlink_to(Path(os.path.realpath(args.venv)))
    if not (base / "shared" / "data" / "online-retail" / "lines.csv.gz").exists():
        print("warning: no ../shared/data/online-retail/lines.csv.gz: the demo loads its synthetic shop", file=sys.stderr)
    return clone


def wait_first_page(process: subprocess.Popen, url: str, timeline: Timeline, limit: float, summary: dict) -> bool:
    """Poll GET / until it answers 200; then time a few other pages once."""
    while process.poll() is None and timeline.now() < limit:
        if status_of(url + "/", timeout=30) == 200:
            break
        time.sleep(0.5)
    else:
        summary["error"] = f"make exited with {process.returncode}" if process.poll() is not None else "no page in time"
        return False
    summary["first_page_s"] = timeline.mark("first page: GET / answered 200")
    summary["load_first_page"] = loadavg()
    summary["pages"] = {}
    for path in PAGES_AFTER:
        started = time.monotonic()
        code = status_of(url + path, timeout=30)
        summary["pages"][path] = {"status": code, "ms": round((time.monotonic() - started) * 1000)}
    print(f"  pages: {summary['pages']}", flush=True)
    return True


def watch_background(process: subprocess.Popen, db: Path, timeline: Timeline, limit: float, summary: dict) -> None:
    """Mark each change of a training run until the SASRec version is live (or failed, or time is up)."""
    seen: dict[int, tuple] = {}
    while timeline.now() < limit:
        runs = training_runs(db)
        for r in runs:
            state = (r["status"], r["epoch"], r["version_status"])
            if seen.get(r["id"]) != state:
                seen[r["id"]] = state
                timeline.mark(f"run {r['id']} {r['kind']}: {r['status']}, epoch {r['epoch']}, "
                              f"version {r['version']} {r['version_status'] or ''} {r['status_detail'] or ''}".rstrip())
        sasrec = [r for r in runs if r["kind"] == "sasrec"]
        live = next((r for r in sasrec if r["version_status"] == "live"), None)
        if live is not None:
            summary["sasrec_live_s"] = timeline.now()
            summary["sasrec"] = {
                "status_detail": live["status_detail"],
                "test_metrics": json.loads(live["version_metrics"] or "{}"),
                **best_validation(live),
            }
            return
        if any(r["status"] in ("failed", "cancelled") for r in sasrec):
            summary["error"] = "the sasrec run failed"
            return
        if process.poll() is not None:
            summary["error"] = f"make exited with {process.returncode}"
            return
        time.sleep(5)
    summary["error"] = f"SASRec not live within {limit / 60:.1f} min"
    running = [r for r in training_runs(db) if r["kind"] == "sasrec"]
    if running:
        summary["sasrec_so_far"] = {"epoch": running[-1]["epoch"], **best_validation(running[-1])}


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="an empty or disposable folder: the clone goes in DIR/aisle")
    parser.add_argument("--port", type=int, default=8021)
    parser.add_argument("--repo", default=str(here), help="what to clone (a path or URL)")
    parser.add_argument("--branch", default="", help="branch to clone (default: the repository's HEAD)")
    parser.add_argument("--venv", type=Path, default=here / ".venv", help="an installed virtual environment")
    parser.add_argument("--shared", type=Path, default=here.parent / "shared", help="the folder holding data/")
    parser.add_argument("--demo-args", default="", help="make demo's DEMO_ARGS (default: the full data)")
    parser.add_argument("--max-minutes", type=float, default=19.0, help="give up waiting for SASRec after this")
    parser.add_argument("--retrain", action="store_true", help="then time a warm-started SASRec retrain in the clone")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    clone = prepare_clone(args)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "DEBUG"}}
    cmd = ["make", "-o", ".venv/.installed", "demo", f"PORT={args.port}"]
    if args.demo_args:
        cmd.append(f"DEMO_ARGS={args.demo_args}")
    summary: dict = {
        "command": " ".join(cmd), "clone": str(clone), "commit": run(["git", "rev-parse", "--short", "HEAD"], cwd=clone),
        "cpus": os.cpu_count(), "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "load_start": loadavg(),
        "bench_queue": os.environ.get("AISLE_BENCH") == "1",
    }
    print(f"{summary['date_utc']} UTC, clone {summary['commit']} in {clone}: {summary['command']}", flush=True)

    timeline = Timeline()
    process = subprocess.Popen(
        cmd, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, bufsize=1,
    )
    threading.Thread(target=follow_make, args=(process, clone.parent / "make-demo.log", timeline), daemon=True).start()
    limit = args.max_minutes * 60
    db = clone / "var" / "db.sqlite3"
    try:
        if wait_first_page(process, f"http://127.0.0.1:{args.port}", timeline, limit, summary):
            watch_background(process, db, timeline, limit, summary)
        summary["runs"] = [
            {"kind": r["kind"], "status": r["status"], "epoch": r["epoch"], "detail": r["status_detail"],
             "version": r["version"], "version_status": r["version_status"],
             "started": r["started_at"], "finished": r["finished_at"]}
            for r in training_runs(db)
        ]
    finally:
        summary["load_end"] = loadavg()
        summary["timeline"] = timeline.events
        summary["killed_after_group"] = stop(process, clone)
        if args.retrain and "sasrec" in summary:
            try:
                summary["retrain"] = retrain_sasrec(clone, db, env)
            except Exception as exc:  # the figures above are still worth printing
                summary["retrain"] = {"error": repr(exc)}
        print(json.dumps(summary, indent=2), flush=True)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))
    return 0 if "error" not in summary else 1


def retrain_sasrec(clone: Path, db: Path, env: dict[str, str]) -> dict:
    """`ai_train sasrec --wait` in the stopped demo: a warm start from the live version; wall time and how it ended."""
    started, load = time.monotonic(), loadavg()
    done = subprocess.run([".venv/bin/python", "manage.py", "ai_train", "sasrec", "--wait"], cwd=clone, env=env,
                          capture_output=True, text=True)
    wall = round(time.monotonic() - started, 1)
    last = [r for r in training_runs(db) if r["kind"] == "sasrec"][-1]
    result = {"command": ".venv/bin/python manage.py ai_train sasrec --wait", "wall_s": wall, "rc": done.returncode,
              "load_start": load, "load_end": loadavg(), "status_detail": last["status_detail"],
              "version": last["version"], "version_status": last["version_status"],
              "test_metrics": json.loads(last["version_metrics"] or "{}"), **best_validation(last)}
    print(f"retrain: {result}", flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
