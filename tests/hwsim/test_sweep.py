"""`hwsim sweep`: specs and their errors, points, rows equal to `run`, engines, resume."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pytest

import hwsim.cli.sweep as sweep_command
from hwsim.cli.main import main
from hwsim.cli.sweep import plan_sweep, run_sweep
from hwsim.errors import ConfigError, HwsimError
from hwsim.explore.sweep import COLUMNS, KEY_COLUMNS, STATUS_OK, area_of
from hwsim.explore.sweep_spec import enumerate_points, grid_from_flags, load_sweep_spec
from hwsim.report import input_stats
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.synth import write_synthetic_trace
from hwsim.workload.trace import load_trace

REPO = Path(__file__).resolve().parents[2]
ARCH = str(REPO / "arch_configs" / "bitfusion_16x16.yaml")
GRID = ["array.rows=8,16", "array.cols=8..16"]
NAMES = ["r8_c8", "r8_c16", "r16_c8", "r16_c16"]


@pytest.fixture(scope="module")
def traces(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("traces")
    write_synthetic_trace(folder / "r8_cp30.jsonl", 8, 200, 0.3, seed=1)
    write_synthetic_trace(folder / "r8_cp50.jsonl.gz", 8, 50, 0.5, seed=2)
    return [str(folder / "r8_cp30.jsonl"), str(folder / "r8_cp50.jsonl.gz")]


@pytest.fixture(scope="module")
def reference_csv(traces, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("ref") / "sweep.csv"
    run_sweep(plan_sweep(ARCH, None, GRID, traces), out, workers=1)
    return out.read_bytes()


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_spec_file_points_in_order_with_paths_beside_the_spec(write_yaml, traces):
    spec = write_yaml({"schema_version": 1, "name": "arrays", "arch": ARCH,
                       "traces": [traces[0]], "batch": 2, "timing": "analytic",
                       "grid": {"array.rows": [8, 16],
                                "array.cols": {"start": 8, "stop": 16, "factor": 2}}})
    loaded, base = load_sweep_spec(spec)
    points = enumerate_points(base, loaded.grid, str(spec))
    assert [p.name for p in points] == NAMES
    assert [(p.arch.array.rows, p.arch.array.cols) for p in points] == [
        (8, 8), (8, 16), (16, 8), (16, 16)]
    assert points[1].arch.name == "bitfusion_16x16_r8_c16"
    assert points[1].arch.energy == base.energy and points[1].arch.buffers == base.buffers
    assert loaded.trace_paths == (traces[0],) and loaded.batch == 2


def test_shipped_example_specs_load():
    examples = sorted((REPO / "examples").glob("sweep_*.yaml"))
    assert examples
    for example in examples:
        spec, base = load_sweep_spec(example)
        assert len(enumerate_points(base, spec.grid, str(example))) >= 8


def test_bad_spec_lists_every_problem(write_yaml):
    spec = write_yaml({"schema_version": 2, "name": "bad", "arch": ARCH, "timing": "evnt",
                       "grid": {"array.row": [8], "array.cols": [8, 8],
                                "frequency_mhz": {"start": 500, "stop": 250, "step": 50},
                                "dram.bandwidth_bits_per_cycle": {"start": 64, "stop": 128}}})
    with pytest.raises(ConfigError) as caught:
        load_sweep_spec(spec)
    message = str(caught.value)
    assert "6 problems" in message
    for expected in (r"schema_version: must be 1", r"timing: must be one of .*did you mean "
                     r"'event'", r"grid\.array\.row: .*did you mean 'array\.rows'",
                     r"grid\.array\.cols: values must be distinct", r"frequency_mhz\.stop: "
                     r"must be >= start", r"bandwidth_bits_per_cycle: a range needs exactly "
                     r"one of 'factor'"):
        assert re.search(expected, message), expected


def test_invalid_points_are_named_with_their_problem():
    with pytest.raises(ConfigError, match=r"r0: array\.rows: must be an integer in 1\.\.65536"):
        plan_sweep(ARCH, None, ["array.rows=0,16"], [])


def test_grid_flags(arch_16x16):
    grid = dict(grid_from_flags(["array.rows=4..64", "frequency_mhz=250..1000+250",
                                 "array.cols=16,32", "buffers.input.size_bytes=8192..32768*4"],
                                arch_16x16))
    assert grid == {"array.rows": (4, 8, 16, 32, 64), "frequency_mhz": (250, 500, 750, 1000),
                    "array.cols": (16, 32), "buffers.input.size_bytes": (8192, 32768)}
    with pytest.raises(ConfigError, match=r"array\.rows: must be KEY=V1"):
        grid_from_flags(["array.rows"], arch_16x16)


def test_area_of_the_paper_config(isca18_arch):
    area = area_of(isca18_arch)  # reference: core 0.888 mm2, 2.14 mm2 with SRAM
    assert area.fu_mm2 == pytest.approx(0.888, abs=1e-3)
    assert area.total_mm2 == pytest.approx(2.14, abs=1e-3)


def test_rows_hold_what_run_reports(tmp_path, traces, arch_16x16):
    out = tmp_path / "s.csv"
    run_sweep(plan_sweep(ARCH, None, [], traces[:1]), out, workers=1)
    (row,) = read_rows(out)
    trace = load_trace(traces[0])
    result = simulate_network(trace.header.network, Decisions(trace.act_bits, trace.wgt_bits),
                              arch_16x16)
    stats = input_stats(result)
    assert row["point"] == "base" and row["status"] == STATUS_OK
    for key in ("latency_cycles_mean", "latency_us_p99", "energy_uj_mean", "energy_uj_p99"):
        assert float(row[key]) == pytest.approx(stats[key], rel=1e-12)
    parts = sum(float(row[c]) for c in COLUMNS if c.startswith("energy_") and
                c.endswith("_uj_mean") and c != "energy_uj_mean")
    assert parts == pytest.approx(float(row["energy_uj_mean"]), rel=1e-9)
    assert float(row["edp_uj_us"]) == pytest.approx(
        float(row["energy_uj_mean"]) * float(row["latency_us_mean"]))
    assert 0 < float(row["fu_utilization"]) <= 1
    assert float(row["cp_measured"]) == pytest.approx(trace.header.cp.measured)
    assert int(row["inputs"]) == 200 == np.asarray(trace.ids).size


def test_serial_pool_and_dask_write_identical_csvs(tmp_path, traces, reference_csv, capsys):
    rows = list(csv.DictReader(reference_csv.decode().splitlines()))
    assert [(r["point"], Path(r["trace"]).name) for r in rows] == [
        (name, Path(t).name) for name in NAMES for t in traces]
    assert list(rows[0]) == list(COLUMNS)
    base = ["sweep", "--arch", ARCH, *sum((["--grid", g] for g in GRID), []),
            *sum((["--trace", t] for t in traces), []), "--no-progress"]
    assert main([*base, "--out", str(tmp_path / "pool.csv"), "--workers", "2"]) == 0
    assert (tmp_path / "pool.csv").read_bytes() == reference_csv
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code = main([*base, "--out", str(tmp_path / "dask.csv"),
                     "--scheduler", cluster.scheduler_address])
    assert code == 0
    assert (tmp_path / "dask.csv").read_bytes() == reference_csv
    assert "8 computed, 0 reused" in capsys.readouterr().out


def test_resume_after_an_interruption(tmp_path, traces, reference_csv, monkeypatch):
    out, calls = tmp_path / "s.csv", []
    real = sweep_command.evaluate_task

    def interrupted(task):
        calls.append(task.point.name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sweep_command, "evaluate_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan_sweep(ARCH, None, GRID, traces), out, workers=1)
    partial = read_rows(out)  # every completed point survived, in spec order
    assert [r["point"] for r in partial] == ["r8_c8", "r8_c8", "r8_c16", "r8_c16"]
    monkeypatch.setattr(sweep_command, "evaluate_task", real)
    outcome = run_sweep(plan_sweep(ARCH, None, GRID, traces), out, workers=1)
    assert (outcome.resumed, outcome.computed) == (4, 4)
    assert out.read_bytes() == reference_csv


def test_resume_refuses_rows_of_another_sweep(tmp_path, traces, reference_csv):
    out = tmp_path / "s.csv"
    out.write_bytes(reference_csv)
    plan = plan_sweep(ARCH, None, GRID, traces, batch=2)
    with pytest.raises(HwsimError, match=r"8 row\(s\) come from another sweep.*--restart"):
        run_sweep(plan, out, workers=1)
    outcome = run_sweep(plan, out, workers=1, restart=True)
    assert outcome.computed == 8 and {r["batch"] for r in read_rows(out)} == {"2"}
    out.write_text("a,b\n1,2\n")
    with pytest.raises(HwsimError, match="not a sweep CSV"):
        run_sweep(plan, out, workers=1)


def test_a_point_that_does_not_map_is_a_row_not_a_crash(tmp_path, traces):
    out = tmp_path / "s.csv"
    run_sweep(plan_sweep(ARCH, None, ["buffers.weight.size_bytes=64,65536"], traces[:1]), out,
              workers=1)
    small, normal = read_rows(out)
    assert small["status"].startswith("unmappable: layer ") and "buffers" in small["status"]
    assert small["energy_uj_mean"] == "" and small["area_total_mm2"] != ""
    assert normal["status"] == STATUS_OK
    keys = [tuple(r[c] for c in KEY_COLUMNS) for r in (small, normal)]
    assert len(set(keys)) == 2


def test_cli_errors_are_one_line(tmp_path, traces, capsys):
    code = main(["sweep", "--arch", ARCH, "--grid", "array.row=8", "--trace", traces[0],
                 "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "did you mean 'array.rows'" in err
    code = main(["sweep", "--arch", ARCH, "--out", str(tmp_path / "s.csv")])
    assert code == 2 and "needs a trace" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


def test_a_second_sweep_on_the_same_file_refuses_naming_the_holder(tmp_path) -> None:
    import json as json_module
    import socket

    from hwsim.cli.sweep import output_lock
    from hwsim.errors import HwsimError

    out = tmp_path / "s.csv"
    with output_lock(out):
        holder = json_module.loads((tmp_path / "s.csv.lock").read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        busy = rf"another sweep is writing it \(pid {os.getpid()}"
        with pytest.raises(HwsimError, match=busy), output_lock(out):
            pass
    assert not (tmp_path / "s.csv.lock").exists()
    # A lock left by a process that is gone is taken over.
    (tmp_path / "s.csv.lock").write_text(json_module.dumps(
        {"pid": 2 ** 22 + 12345, "host": socket.gethostname(), "started": "then"}))
    with output_lock(out):
        pass


def test_workers_exit_when_the_sweep_process_dies(tmp_path) -> None:
    import subprocess
    import sys
    import time

    script = (
        "import os, sys, time\n"
        "from hwsim.cli.sweep import exit_with_parent\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"  # the 'worker': watches the process that spawned it
        "    exit_with_parent(int(sys.argv[1]), every_s=0.1)\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n"
        "print(pid, flush=True)\n")
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    child = subprocess.run([sys.executable, "-c", script, str(parent.pid)],
                           capture_output=True, text=True, check=True)
    worker = int(child.stdout.strip())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the worker outlived its parent")
