"""python manage.py ai_train KIND [KIND ...]|all [--option name=value ...] [--wait | --background]"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai.conf import ai_settings
from ai.kinds import all_kinds, get_kind
from ai.models import TrainingRun
from ai.training import dispatch, execute_run, start_run, sweep_stale_runs
from ai.training.services import RunConflict

POLL_S = 0.5


def parse_options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--option takes name=value, not {pair!r}")
        options[name.strip()] = value.strip()
    return options


class Command(BaseCommand):
    help = (
        "Train a model kind (or `all`: every kind in AI_RETRAIN_KINDS). Queues a run on the `gpu` queue, or "
        "runs it in this process when no broker is configured. With --wait, shows a progress bar and ends "
        "with the run's status and metrics (exit status 1 when a run did not succeed). With --background "
        "(and no broker), a separate process trains them one after the other while this command returns."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kinds", nargs="+", metavar="kind",
                            help=f"model kinds ({', '.join(sorted(all_kinds()))}) or 'all'")
        parser.add_argument(
            "--option", "-o", action="append", default=[], metavar="NAME=VALUE", help="a training option (repeatable)"
        )
        parser.add_argument("--wait", action="store_true", help="wait for the run, showing its progress")
        parser.add_argument(
            "--background", action="store_true",
            help="train in a detached process (its log in var/log/ai_train_background.log); the runs show in the admin",
        )

    def _kinds(self, requested: list[str], options: dict) -> list[str]:
        if requested != ["all"]:
            if "all" in requested:
                raise CommandError("`all` cannot be combined with other kinds")
            if options and len(requested) > 1:
                raise CommandError("--option applies to a single kind")
            return list(dict.fromkeys(requested))
        kinds = [name for name in ai_settings.RETRAIN_KINDS if name in all_kinds()]
        skipped = [name for name in ai_settings.RETRAIN_KINDS if name not in all_kinds()]
        if skipped:
            self.stderr.write(f"Not registered, skipped: {', '.join(skipped)}")
        if not kinds:
            raise CommandError("AI_RETRAIN_KINDS names no registered kind")
        if options:
            raise CommandError("--option applies to a single kind, not to `all`")
        return kinds

    def _background(self, kinds: list[str], option: list[str]) -> None:
        """Train in a detached child process (this command's own code, without --background)."""
        log_dir = Path(settings.BASE_DIR if hasattr(settings, "BASE_DIR") else ".") / "var" / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / "ai_train_background.log"
        command = [sys.executable, "-m", "django", "ai_train", *kinds, *[f"--option={o}" for o in option]]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)}
        with open(log_path, "ab") as log:
            child = subprocess.Popen(  # noqa: S603 (our own interpreter and command, no shell)
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=os.getcwd(), start_new_session=True,
            )
        self.stdout.write(
            f"{', '.join(kinds)}: training in the background (process {child.pid}, log {log_path}); "
            "follow the runs in the admin (AI > Training runs)"
        )

    def handle(self, *args, kinds: list[str], option: list[str], wait: bool, background: bool = False,
               verbosity: int = 1, **kwargs) -> None:
        options = parse_options(option)
        kinds = self._kinds(kinds, options)
        if wait and background:
            raise CommandError("--wait and --background exclude each other")
        # Validate everything before starting anything.
        for name in kinds:
            try:
                get_kind(name).clean_options(options)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if background and dispatch.in_process():
            self._background(kinds, option)
            return
        failed = []
        for name in kinds:
            run = self._train(name, options, wait=wait, show_bar=verbosity > 0)
            self._summary(run)
            if run.status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED):
                failed.append(run)
        if failed:
            raise CommandError("; ".join(f"{run.kind} run #{run.pk} {run.status}: {run.error or 'cancelled'}" for run in failed))

    def _train(self, name: str, options: dict[str, str], *, wait: bool, show_bar: bool) -> TrainingRun:
        """Start a run and say where it went: here (no broker, AI_TASKS_IN_PROCESS) or to a Celery worker."""
        in_process = dispatch.in_process()
        try:
            run = start_run(name, options, via="cli", enqueue=not in_process)
        except RunConflict as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{name}: run #{run.pk} {'runs' if in_process else 'was sent'} {dispatch.destination()}")
        if wait:
            return self._wait(run, in_process=in_process, show_bar=show_bar)
        if in_process:
            return execute_run(run.pk, wait=True) or TrainingRun.objects.get(pk=run.pk)
        run.refresh_from_db()
        return run

    def _wait(self, run: TrainingRun, *, in_process: bool, show_bar: bool) -> TrainingRun:
        from tqdm import tqdm

        bar = tqdm(
            total=100, desc=run.kind, file=self.stderr._out, disable=not show_bar,
            bar_format="{desc}: {percentage:3.0f}%|{bar}|{postfix}",
        )

        def show(current: TrainingRun) -> None:
            bar.n = round(current.progress, 1)
            parts = [current.status]
            if current.epoch:
                parts.append(f"epoch {current.epoch}")
            if current.total_steps:
                parts.append(f"step {current.step}/{current.total_steps}")
            if current.loss_curve and "loss" in current.loss_curve[-1]:
                parts.append(f"loss {current.loss_curve[-1]['loss']:.4f}")
            bar.set_postfix_str(" ".join(parts), refresh=False)
            bar.refresh()

        try:
            if in_process:
                run = execute_run(run.pk, listener=show, wait=True) or TrainingRun.objects.get(pk=run.pk)
            else:
                while True:
                    run.refresh_from_db()
                    show(run)
                    if run.is_finished:
                        break
                    if run.status == TrainingRun.Status.QUEUED:
                        sweep_stale_runs()  # without beat, a run no worker takes still ends (AI_QUEUE_TIMEOUT_S)
                    time.sleep(POLL_S)
        finally:
            bar.close()
        return run

    def _summary(self, run: TrainingRun) -> None:
        if not run.is_finished:
            self.stdout.write(f"{run.kind}: run #{run.pk} is {run.status}; follow it in the admin or the API")
            return
        style = self.style.SUCCESS if run.status == TrainingRun.Status.SUCCEEDED else self.style.ERROR
        duration = f" in {run.duration_s:.1f} s" if run.duration_s is not None else ""
        self.stdout.write(style(f"{run.kind}: run #{run.pk} {run.status}{duration} on {run.device or '?'}"))
        if run.status_detail:
            self.stdout.write(f"  {run.status_detail}")
        for name, value in sorted(run.metrics.items()):
            self.stdout.write(f"  {name}: {value:.4f}" if isinstance(value, float) else f"  {name}: {value}")
        version = getattr(run, "model_version", None)
        if version is not None:
            version.refresh_from_db()
            self.stdout.write(f"  version: {run.kind} v{version.version} ({version.status})")
        if run.error:
            self.stdout.write(f"  error: {run.error}")
