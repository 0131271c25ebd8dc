"""`python -m hwsim` end to end: outputs, and one clear line + exit 2 for every bad input."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from hwsim.cli.main import main
from hwsim.workload.synth import write_synthetic_trace

REPO = Path(__file__).resolve().parents[2]
ARCH = str(REPO / "arch_configs" / "bitfusion_16x16.yaml")


@pytest.fixture(scope="module")
def small_trace(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("traces") / "r14.jsonl"
    write_synthetic_trace(path, 14, 60, 0.3, seed=3)
    return path


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_writes_the_three_files_with_units(tmp_path, capsys, small_trace):
    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "run", "--arch", ARCH, "--trace", str(small_trace),
                              "--out", str(out))
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "inputs.csv", "layers.csv", "manifest.json", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workload"]["sha256"] and summary["hwsim_version"]
    assert summary["arch"]["name"] == "bitfusion_16x16"
    assert summary["per_input"]["inputs"] == 60
    full = summary["baselines"][0]
    assert full["speedup"] > 1.0  # skipping and low precision beat 32-bit everywhere
    with open(out / "inputs.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 60 and "latency_cycles" in rows[0] and "energy_total_uj" in rows[0]
    with open(out / "layers.csv") as handle:
        header = next(csv.reader(handle))
    assert "dram_bytes_per_input" in header and "energy_dram_pj_per_input" in header
    assert "per input (60 inputs" in stdout


@pytest.mark.parametrize("batch", ["1", "8"])
def test_per_input_latencies_match_the_layer_table(tmp_path, capsys, small_trace, batch):
    """Layer cycles are per group of `batch` inputs: they add up to the latency each input
    sees, and the text table says so."""
    out = tmp_path / "out"
    _, stdout, _ = run_cli(capsys, "run", "--arch", ARCH, "--trace", str(small_trace), "--out",
                           str(out), "--batch", batch)
    with open(out / "inputs.csv") as handle:
        latencies = [float(r["latency_cycles"]) for r in csv.DictReader(handle)]
    with open(out / "layers.csv") as handle:
        per_layer = sum(float(r["total_cycles_per_group"]) for r in csv.DictReader(handle))
    groups = latencies[::int(batch)]  # every input of a group sees the group's latency
    assert sum(groups) / len(groups) == pytest.approx(per_layer)
    expected = "per layer, per input:" if batch == "1" else "cycles per group of 8 inputs"
    assert expected in stdout


def test_json_format_and_batch(capsys, small_trace):
    code, stdout, _ = run_cli(capsys, "run", "--arch", ARCH, "--trace", str(small_trace),
                              "--batch", "8", "--format", "json")
    assert code == 0
    assert json.loads(stdout)["batch"] == 8


def test_validate_accepts_good_files(capsys, small_trace):
    code, stdout, _ = run_cli(capsys, "validate", ARCH, str(small_trace))
    assert code == 0 and stdout.count("ok ") == 2


def test_synth_trace_command(tmp_path, capsys):
    out = tmp_path / "s.jsonl.gz"
    code, stdout, _ = run_cli(capsys, "synth-trace", "--depth", "8", "--inputs", "5",
                              "--cp", "0.5", "--out", str(out))
    assert code == 0 and "measured cp" in stdout
    with gzip.open(out) as handle:
        assert handle.readline().startswith(b"{")


def _assert_bad(capsys, tmp_path, argv, pattern):
    out = tmp_path / "never"
    code, stdout, err = run_cli(capsys, *argv, "--out", str(out)) if argv[0] == "run" else \
        run_cli(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    import re

    assert re.search(pattern, err), err
    assert not out.exists() or not any(out.iterdir())


def test_missing_arch_file(capsys, tmp_path, small_trace):
    _assert_bad(capsys, tmp_path, ["run", "--arch", "nope.yaml", "--trace", str(small_trace)],
                r"nope\.yaml")


def test_malformed_yaml(capsys, tmp_path, small_trace):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: [unclosed\n")
    _assert_bad(capsys, tmp_path, ["run", "--arch", str(bad), "--trace", str(small_trace)],
                r"bad\.yaml:\d+")


@pytest.mark.parametrize(("edit", "pattern"), [
    (("\narray:", "\narrray:"), r"did you mean 'array'"),
    (("rows: 16", "rows: 0"), r"array\.rows"),
    (("size_bytes: 32768", "size_bytes: -5"), r"buffers\.input\.size_bytes"),
])
def test_bad_arch_values(capsys, tmp_path, small_trace, edit, pattern):
    bad = tmp_path / "arch.yaml"
    bad.write_text(Path(ARCH).read_text().replace(*edit, 1))
    _assert_bad(capsys, tmp_path, ["run", "--arch", str(bad), "--trace", str(small_trace)], pattern)


def _corrupt(small_trace: Path, tmp_path: Path, line_no: int, text: str) -> Path:
    lines = small_trace.read_text().splitlines()
    lines[line_no - 1] = text
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    return bad


def test_corrupt_trace_line(capsys, tmp_path, small_trace):
    bad = _corrupt(small_trace, tmp_path, 5, '{"id": 3, "label"')
    _assert_bad(capsys, tmp_path, ["run", "--arch", ARCH, "--trace", str(bad)], r"bad\.jsonl:5")


def test_record_length_disagrees_with_header(capsys, tmp_path, small_trace):
    record = json.loads(small_trace.read_text().splitlines()[6])
    record["act_bits"] = record["act_bits"][:-1]
    bad = _corrupt(small_trace, tmp_path, 7, json.dumps(record))
    _assert_bad(capsys, tmp_path, ["run", "--arch", ARCH, "--trace", str(bad)], r"bad\.jsonl:7")


def test_unknown_format_version(capsys, tmp_path, small_trace):
    header = json.loads(small_trace.read_text().splitlines()[0])
    header["version"] = 7
    bad = _corrupt(small_trace, tmp_path, 1, json.dumps(header))
    _assert_bad(capsys, tmp_path, ["validate", str(bad)], r"bad\.jsonl:1.*version 7")


def test_truncated_gzip_trace(capsys, tmp_path, small_trace):
    data = gzip.compress(small_trace.read_bytes())
    bad = tmp_path / "cut.jsonl.gz"
    bad.write_bytes(data[: len(data) // 2])
    _assert_bad(capsys, tmp_path, ["run", "--arch", ARCH, "--trace", str(bad)], r"cut\.jsonl\.gz")


def test_bits_the_pe_cannot_run(capsys, tmp_path, small_trace):
    arch = tmp_path / "narrow.yaml"
    text = Path(ARCH).read_text().replace("temporal_max_bits: 32", "temporal_max_bits: 16")
    arch.write_text(text)
    _assert_bad(capsys, tmp_path, ["run", "--arch", str(arch), "--trace", str(small_trace)],
                r"r14\.jsonl: layer .*32-bit operands exceed this PE's widest mode \(16 bits\)")


def test_missing_trace_file(capsys, tmp_path):
    _assert_bad(capsys, tmp_path, ["run", "--arch", ARCH, "--trace", "missing.jsonl"],
                r"missing\.jsonl")


def test_rounded_widths_are_reported(capsys, tmp_path):
    from hwsim.workload.layer import Precision
    from hwsim.workload.synth import resnet_cifar_network
    from hwsim.workload.trace import (
        CpInfo,
        InputRecord,
        ModelInfo,
        SourceKind,
        TraceHeader,
        write_trace,
    )

    options = (Precision(0, 0), Precision(3, 3), Precision(32, 32))
    network = resnet_cifar_network(8, options=options)
    header = TraceHeader(ModelInfo("odd", "synthetic", (3, 32, 32), SourceKind.SYNTHETIC,
                                   generator="test"), network, CpInfo())
    path = tmp_path / "odd.jsonl"
    n = len(network.blocks)
    write_trace(path, header, [InputRecord(0, 1, 1, (3,) * n, (3,) * n)])
    code, stdout, _ = run_cli(capsys, "run", "--arch", ARCH, "--trace", str(path))
    assert code == 0
    assert "3/3 -> 4/4" in stdout


def test_a_result_set_is_one_verifiable_unit(tmp_path, monkeypatch) -> None:
    """The manifest is written last and names every file's sha256; a write interrupted between
    two renames leaves no manifest; the next run removes the temporaries and completes."""
    import hashlib
    import json
    import os

    from hwsim import report
    from hwsim.errors import HwsimError

    out = tmp_path / "out"
    report.write_outputs(out, {"a.csv": lambda: "1\n", "b.json": lambda: "{}\n"})
    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    stale = out / f"{report.TEMP_PREFIX}{2 ** 22 + 7}-x"  # an interrupted run, pid gone
    stale.mkdir()
    (out / ".a.csv.abc123").write_text("old temporary")
    real_replace, calls = os.replace, []

    def dies_after_one(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", dies_after_one)
    with pytest.raises(HwsimError, match="cannot write results"):
        report.write_outputs(out, {"a.csv": lambda: "2\n", "b.json": lambda: "[]\n"})
    monkeypatch.setattr(report.os, "replace", real_replace)
    assert not (out / "manifest.json").exists()  # a reader can tell the set is incomplete
    assert not stale.exists() and not (out / ".a.csv.abc123").exists()
    report.write_outputs(out, {"a.csv": lambda: "2\n", "b.json": lambda: "[]\n"})
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.json", "manifest.json"]
