"""Hostile input gets one line and exit 2, never a traceback or a hang (issue: no traceback on
any input). Each case stands for a class: usage errors, YAML bombs, unprintable names, broken
pipes, empty traces, numbers past the model's bounds."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ARCH = str(REPO / "arch_configs" / "bitfusion_16x16.yaml")
SYNTH = REPO / "traces" / "resnet74_synthetic_cp20.jsonl.gz"


def _hwsim(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwsim", *args], cwd=REPO, capture_output=True,
                          text=True, check=False, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _one_line(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert fragment in done.stderr, done.stderr


@pytest.mark.parametrize(("args", "fragment"), [
    (["run", "--arch", ARCH, "--benchmark", "lenet5", "--batch", "ten"],
     "argument --batch: invalid int value: 'ten'; see 'python -m hwsim run --help'"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["run", "--arch", ARCH, "--benchmark", "lenet5", "--batch", str(2 ** 70)],
     "--batch must be in 1..1,048,576"),
    (["run", "--arch", ARCH, "--benchmark", "lenet5", "--inputs", str(10 ** 12)],
     "--inputs must be in 1..10,000,000"),
    (["synth-trace", "--out", "/tmp/x.jsonl", "--seed", "-1"], "--seed must be an integer"),
])
def test_usage_and_range_errors(args, fragment) -> None:
    _one_line(_hwsim(*args), fragment)


def test_an_alias_bomb_fails_at_once(tmp_path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(9):
        prev, name = chr(97 + i), chr(98 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    _one_line(_hwsim("validate", str(bomb), timeout=30), "once aliases are expanded")
    assert time.perf_counter() - start < 20


def test_deep_nesting_is_refused(tmp_path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 1000 + "]" * 1000 + "\n")
    _one_line(_hwsim("validate", str(deep)), "nested deeper than 64 levels")


def test_a_non_ascii_name_on_an_ascii_terminal(tmp_path) -> None:
    data = yaml.safe_load(Path(ARCH).read_text())
    data["name"] = "bit\u00e9fusion"
    arch = tmp_path / "uni.yaml"
    arch.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = _hwsim("run", "--arch", str(arch), "--benchmark", "lenet5", "--no-progress",
                  env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert "bit\\xe9fusion" in done.stdout


def test_a_broken_pipe_ends_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-m", "hwsim", "run", "--arch", ARCH, "--trace",
                                str(SYNTH), "--no-progress"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # the reader goes away, like `| head -1`
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and b"Traceback" not in err, err


def test_a_trace_without_inputs(tmp_path) -> None:
    with gzip.open(SYNTH, "rt") as handle:
        header = json.loads(handle.readline())
    header["num_inputs"] = 0
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps(header) + "\n")
    for command in (["run", "--arch", ARCH], ["compare", "--arch", ARCH, ARCH]):
        _one_line(_hwsim(*command, "--trace", str(empty)), "has no input records")


def test_summary_json_is_strict(tmp_path) -> None:
    out = tmp_path / "out"
    done = _hwsim("run", "--arch", ARCH, "--benchmark", "lenet5", "--out", str(out),
                  "--no-progress")
    assert done.returncode == 0, done.stderr
    json.loads((out / "summary.json").read_text(),
               parse_constant=lambda name: pytest.fail(f"non-finite {name} in summary.json"))
