"""`python -m hwsim compare`: one workload on several archs, ratios against the first."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hwsim.cli.compare import CSV_HEADERS, compare_archs
from hwsim.cli.main import main
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.benchmarks import load_benchmark

ARCHS = Path(__file__).resolve().parents[2] / "arch_configs"
ISCA18 = str(ARCHS / "bitfusion_isca18.yaml")
FIXED8 = str(ARCHS / "fixed8_isca18_area.yaml")
STRIPES = str(ARCHS / "stripes_isca18_area.yaml")


@pytest.fixture(scope="module")
def rnn_results():
    from hwsim.hardware.arch import load_arch

    network = load_benchmark("rnn")
    return [simulate_network(network, Decisions.static(4), load_arch(path), batch=4)
            for path in (ISCA18, FIXED8, STRIPES)]


def test_ratios_are_against_the_first_arch(rnn_results):
    rows = compare_archs(rnn_results)
    assert (rows[0].speedup, rows[0].energy_reduction) == (1.0, 1.0)
    for row, result in zip(rows, rnn_results, strict=True):
        latency = float(result.per_input["latency_cycles"].mean())
        assert row.latency_cycles == latency
        assert row.speedup == pytest.approx(rows[0].latency_cycles / latency)
        assert row.energy_reduction == pytest.approx(
            float(rnn_results[0].energy_pj().mean()) / float(result.energy_pj().mean()))
        assert 0 < row.fu_utilization <= 1 and 0 < row.brick_utilization <= 1
        assert row.compute_cycles + row.stall_cycles == pytest.approx(latency / 4)


def test_an_arch_against_itself_is_one(rnn_results):
    rows = compare_archs([rnn_results[1], rnn_results[1]])
    assert (rows[1].speedup, rows[1].energy_reduction) == (1.0, 1.0)


def test_cli_writes_one_csv_row_per_arch_with_units(tmp_path, capsys):
    code = main(["compare", "--arch", ISCA18, FIXED8, STRIPES, "--benchmark", "rnn",
                 "--inputs", "4", "--batch", "4", "--out", str(tmp_path)])
    assert code == 0
    table = capsys.readouterr().out
    assert "ratios against bitfusion_isca18" in table and "stripes_isca18_area" in table
    with open(tmp_path / "compare.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["arch"] for r in rows] == ["bitfusion_isca18", "fixed8_isca18_area",
                                         "stripes_isca18_area"]
    assert list(rows[0]) == list(CSV_HEADERS.values())
    assert float(rows[0]["speedup_vs_first"]) == 1.0
    assert [r["pe_kind"] for r in rows] == ["bitfusion", "fixed", "bit_serial"]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_cli_json_output(capsys):
    import json

    assert main(["compare", "--arch", ISCA18, ISCA18, "--benchmark", "lstm", "--format",
                 "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["speedup"] for a in data["archs"]] == [1.0, 1.0]


def test_bad_arch_is_one_line_and_exit_2(tmp_path, capsys, write_yaml):
    bad = write_yaml({"schema_version": 1})
    assert main(["compare", "--arch", ISCA18, str(bad), "--benchmark", "rnn"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(bad) in err


def test_unmappable_arch_names_the_file(tmp_path, capsys):
    # Stripes' lanes hold 16-bit weights: a topology at 8/32 bits cannot map on it
    topology = tmp_path / "t.csv"
    topology.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                        "Channels, Num Filter, Strides,\nfc,1,1,1,1,16,16,1,\n")
    code = main(["compare", "--arch", ISCA18, STRIPES, "--topology", str(topology),
                 "--act-bits", "8", "--wgt-bits", "32"])
    assert code == 2
    assert "stripes_isca18_area.yaml" in capsys.readouterr().err
