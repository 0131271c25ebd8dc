"""`python -m hwsim sweep`: every (arch point, trace) of a sweep into one resumable CSV.

The CSV (columns: `hwsim.explore.sweep.COLUMNS`) holds one row per (point, trace) in spec order,
whatever
order the workers finish in. It is rewritten atomically as points complete (at most every
`WRITE_EVERY_S` seconds, and always on the way out, interrupted or not), so an interrupted sweep
loses at most the points in flight; run the same command again and the rows already there (same
point, arch digest, trace digest, batch and timing) are kept, the rest computed.

Work runs in local worker processes (`--workers`, default one per core) or, with `--scheduler`,
on a Dask distributed cluster (the optional `dist` extra). Both only map `evaluate_task` over the
pending points: there is no job queue here.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import multiprocessing
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from hwsim.cost.timing import TimingKind
from hwsim.errors import HwsimError
from hwsim.explore.sweep import (
    COLUMNS,
    STATUS_OK,
    SweepTask,
    TraceRef,
    evaluate_task,
    file_sha256,
    row_key,
    task_keys,
)
from hwsim.explore.sweep_spec import (
    SweepPoint,
    SweepSpec,
    enumerate_points,
    grid_from_flags,
    load_sweep_spec,
    merge_grids,
)
from hwsim.hardware.arch import ArchConfig, load_arch
from hwsim.report import format_table, pid_alive, write_file_atomic

WRITE_EVERY_S = 1.0
Row = dict[str, str]
Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """Everything a sweep computes: validated arch points x traces, at one batch and timing."""

    name: str
    base: ArchConfig
    points: tuple[SweepPoint, ...]
    traces: tuple[TraceRef, ...]
    batch: int
    timing: TimingKind

    def tasks(self) -> tuple[SweepTask, ...]:
        return tuple(SweepTask(point, self.base.name, self.traces, self.batch, self.timing)
                     for point in self.points)


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    rows: tuple[Row, ...]  # the CSV rows in spec order
    computed: int
    resumed: int
    wall_s: float


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="simulate traces over a grid of arch points into one CSV",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", help="base arch YAML (default: the spec's `arch:`)")
    p.add_argument("--spec", help="sweep spec YAML (see docs/sweep.md)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                   help="an axis, e.g. array.rows=4..64 (doubling), array.cols=16,32, "
                        "frequency_mhz=250..1000+250; repeatable, replaces the spec's axis")
    p.add_argument("--trace", action="append", default=[],
                   help="a trace (.jsonl[.gz]); repeatable; replaces the spec's traces")
    p.add_argument("--out", required=True, help="the sweep CSV; existing rows are reused")
    p.add_argument("--batch", type=int, help="group N consecutive inputs (default 1)")
    p.add_argument("--timing", choices=[kind.value for kind in TimingKind],
                   help="timing model (default analytic)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on this Dask distributed scheduler instead of local workers")
    p.add_argument("--restart", action="store_true", help="discard the rows already in --out")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def _trace_ref(path: str) -> TraceRef:
    from hwsim.workload.trace import read_header

    read_header(path)  # a bad trace fails here, before any point runs
    return TraceRef(path, file_sha256(path))


def plan_sweep(arch_path: str | None, spec_path: str | None, grid_flags: list[str],
               trace_paths: list[str], batch: int | None = None,
               timing: str | None = None) -> SweepPlan:
    """Validate everything a sweep needs; flags win over the spec's values.

    Raises:
        HwsimError: (or its ConfigError, TraceError) naming every bad input.
    """
    if spec_path:
        spec, base = load_sweep_spec(spec_path, arch_path)
    elif arch_path:
        spec, base = SweepSpec(name="sweep", grid=()), load_arch(arch_path)
    else:
        raise HwsimError("sweep: needs a base arch: --arch FILE, or a --spec that names one")
    grid = merge_grids(spec.grid, grid_from_flags(grid_flags, base))
    points = enumerate_points(base, grid, spec_path or "--grid")
    paths = [os.path.normpath(p) for p in trace_paths] or list(spec.trace_paths)
    if not paths:
        raise HwsimError("sweep: needs a trace: --trace FILE, or `traces:` in the spec")
    if (batch := batch or spec.batch or 1) < 1:
        raise HwsimError(f"--batch must be >= 1 (got {batch})")
    kind = TimingKind(timing) if timing else spec.timing or TimingKind.ANALYTIC
    traces = tuple(_trace_ref(path) for path in dict.fromkeys(paths))
    return SweepPlan(spec.name, base, points, traces, batch, kind)


def read_existing(out: Path, wanted: set[Key]) -> dict[Key, Row]:
    """The rows of a previous run of this sweep, by key.

    Raises:
        HwsimError: the file is not a sweep CSV, or holds rows this sweep would not produce.
    """
    if not out.exists() or out.stat().st_size == 0:
        return {}
    with open(out, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    if reader.fieldnames != list(COLUMNS):
        raise HwsimError(f"{out}: not a sweep CSV of this hwsim version (its columns differ); "
                         "choose another --out, or --restart to overwrite it")
    foreign = [row for row in rows if row_key(row) not in wanted]
    if foreign:
        first = foreign[0]
        raise HwsimError(
            f"{out}: {len(foreign)} row(s) come from another sweep (e.g. point {first['point']} "
            f"on {first['trace']}, with another arch, trace file, batch or timing); choose "
            "another --out, or --restart to discard them")
    return {row_key(row): row for row in rows}


def _csv_text(keys: list[Key], done: dict[Key, Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(done[key] for key in keys if key in done)
    return buffer.getvalue()


def _write(out: Path, keys: list[Key], done: dict[Key, Row]) -> None:
    write_file_atomic(out, _csv_text(keys, done))


def _pending(tasks: tuple[SweepTask, ...], done: dict[Key, Row]) -> list[SweepTask]:
    pending = []
    for task in tasks:
        refs = tuple(ref for ref, key in zip(task.traces, task_keys(task), strict=True)
                     if key not in done)
        if refs:
            pending.append(SweepTask(task.point, task.base_arch, refs, task.batch, task.timing))
    return pending


def exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """Worker initializer: a daemon thread ends this worker once the sweep process is gone
    (a killed parent would otherwise leave its workers running)."""
    def watch() -> None:
        while True:
            time.sleep(every_s)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _holder(lock: Path) -> dict:
    try:
        data = json.loads(lock.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold `OUT.lock` while a sweep writes `OUT`: a second sweep on the same file refuses,
    naming the holder; a lock whose process is gone (same host) is taken over."""
    lock = out.with_name(out.name + ".lock")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                holder = _holder(lock)
                pid = holder.get("pid")
                stale = (holder.get("host") == socket.gethostname() and isinstance(pid, int)
                         and not pid_alive(pid))
                if not stale:
                    raise HwsimError(
                        f"{out}: another sweep is writing it (pid {pid} on "
                        f"{holder.get('host', '?')}, since {holder.get('started', '?')}); wait "
                        f"for it or choose another --out (delete {lock} if that process is "
                        "gone)") from None
                lock.unlink(missing_ok=True)
        else:
            raise HwsimError(f"{out}: cannot take {lock}; delete it if no sweep is running")
    except OSError as err:
        raise HwsimError(f"{out}: cannot lock it ({err.strerror}); choose a writable --out"
                         ) from None
    with os.fdopen(fd, "w") as handle:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, handle)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


@contextlib.contextmanager
def _local_results(tasks: list[SweepTask], workers: int) -> Iterator[Iterator]:
    if workers <= 1 or len(tasks) <= 1:
        yield (evaluate_task(task) for task in tasks)
        return
    # forkserver: workers start from a clean process with hwsim imported, never forking threads.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["hwsim.explore.sweep"])
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context,
                               initializer=exit_with_parent, initargs=(os.getpid(),))
    try:
        futures = [pool.submit(evaluate_task, task) for task in tasks]
        yield (future.result() for future in as_completed(futures))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _dask_results(tasks: list[SweepTask], address: str) -> Iterator[Iterator]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise HwsimError("--scheduler needs Dask distributed: pip install 'hwsim-dfs[dist]'"
                         ) from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise HwsimError(f"--scheduler {address}: cannot connect ({err}); check the address "
                         "and that the scheduler is running") from None
    try:
        futures = client.map(evaluate_task, tasks, pure=False) if tasks else []
        yield (future.result() for future in dask_completed(futures))
    finally:
        client.close()


def _collect(results: Iterator, done: dict[Key, Row], keys: list[Key], out: Path,
             bar: object) -> int:
    computed, last_write = 0, time.monotonic()
    try:
        for _, rows in results:
            for row in rows:
                done[row_key(row)] = row
            computed += len(rows)
            bar.update(len(rows))
            if time.monotonic() - last_write >= WRITE_EVERY_S:
                _write(out, keys, done)
                last_write = time.monotonic()
    finally:
        _write(out, keys, done)  # an interruption keeps every completed row
    return computed


def run_sweep(plan: SweepPlan, out: str | os.PathLike[str], workers: int | None = None,
              scheduler: str | None = None, restart: bool = False,
              progress: bool = False) -> SweepOutcome:
    """Compute the rows of `plan` missing from `out` and write the whole CSV in spec order."""

    start, out, tasks = time.perf_counter(), Path(out), plan.tasks()
    with output_lock(out):
        return _run_locked(plan, out, tasks, start, workers, scheduler, restart, progress)


def _run_locked(plan: SweepPlan, out: Path, tasks, start: float, workers: int | None,
                scheduler: str | None, restart: bool, progress: bool) -> SweepOutcome:
    from tqdm import tqdm

    keys = [key for task in tasks for key in task_keys(task)]
    done = {} if restart else read_existing(out, set(keys))
    resumed, pending = len(done), _pending(tasks, done)
    workers = workers if workers is not None else os.cpu_count() or 1
    source = (_dask_results(pending, scheduler) if scheduler
              else _local_results(pending, workers))
    with source as results, tqdm(total=len(keys), initial=resumed, unit="row",
                                 desc=f"sweep {plan.name}", disable=not progress,
                                 leave=False) as bar:
        computed = _collect(results, done, keys, out, bar)
    return SweepOutcome(tuple(done[key] for key in keys), computed, resumed,
                        time.perf_counter() - start)


def _best_lines(outcome: SweepOutcome) -> str:
    best: dict[str, Row] = {}
    for row in outcome.rows:
        if row["status"] == STATUS_OK and (
                row["trace"] not in best
                or float(row["edp_uj_us"]) < float(best[row["trace"]]["edp_uj_us"])):
            best[row["trace"]] = row
    body = [[r["trace"], r["point"], f"{float(r['latency_us_mean']):.1f}",
             f"{float(r['energy_uj_mean']):.1f}", f"{float(r['area_total_mm2']):.3f}",
             f"{float(r['fu_utilization']):.1%}"] for r in best.values()]
    return format_table(["lowest EDP on trace", "point", "latency us", "energy uJ", "area mm2",
                         "FU util"], body)


def run(args: argparse.Namespace) -> int:
    plan = plan_sweep(args.arch, args.spec, args.grid, args.trace, args.batch, args.timing)
    if args.workers is not None and args.workers < 1:
        raise HwsimError(f"--workers must be >= 1 (got {args.workers})")
    outcome = run_sweep(plan, args.out, args.workers, args.scheduler, args.restart,
                        progress=not args.no_progress and sys.stderr.isatty())
    failed = sum(row["status"] != STATUS_OK for row in outcome.rows)
    print(f"{args.out}: {len(outcome.rows)} rows ({len(plan.points)} points x "
          f"{len(plan.traces)} traces): {outcome.computed} computed, {outcome.resumed} reused, "
          f"{failed} unmappable, in {outcome.wall_s:.1f} s")
    print(_best_lines(outcome))
    return 0
