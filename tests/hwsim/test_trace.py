"""The trace format: round trips, streaming, atomic writes and every error naming file:line."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwsim.errors import TraceError
from hwsim.workload.layer import FULL, SKIP, Layer, LayerKind, Network, Precision
from hwsim.workload.trace import (
    CpInfo,
    InputRecord,
    ModelInfo,
    SourceKind,
    TraceHeader,
    TraceWriter,
    header_from_dict,
    header_to_dict,
    iter_records,
    load_trace,
    read_header,
    write_trace,
)

OPTIONS = (SKIP, Precision(8, 8), FULL)


def _network(options: tuple[Precision, ...] = OPTIONS) -> Network:
    """Stem, one plain block, one downsampling block with its shortcut, FC; two gated blocks."""
    conv = LayerKind.CONV
    layers = (
        Layer("stem.conv", conv, 3, 16, 8, 8, 3, 1, 1, fixed=FULL, first_layer=True),
        Layer("b0.gate.proj", LayerKind.GATE, 16, 10, fixed=FULL),
        Layer("b0.conv1", conv, 16, 16, 8, 8, 3, 1, 1, block=0),
        Layer("b1.gate.proj", LayerKind.GATE, 16, 10, fixed=FULL),
        Layer("b1.conv1", conv, 16, 32, 8, 8, 3, 2, 1, block=1),
        Layer("b1.shortcut", conv, 16, 32, 8, 8, 1, 2, 0, block=1, fixed=FULL),
        Layer("fc", LayerKind.FC, 32, 10, fixed=FULL),
    )
    return Network("tiny", layers, ("b0", "b1"), options)


def _header(num_inputs: int | None = 3) -> TraceHeader:
    model = ModelInfo("tiny", "unit-test", (3, 8, 8), SourceKind.SYNTHETIC, generator="test")
    return TraceHeader(model, _network(), CpInfo(target=0.5, measured=0.25), num_inputs)


def _records(count: int = 3) -> list[InputRecord]:
    bits = [(8, 32), (0, 8), (32, 0)]
    return [InputRecord(i, i % 10, None if i == 1 else i % 10, bits[i % 3], bits[i % 3])
            for i in range(count)]


def _write_raw(path: Path, header: dict | str, records: list) -> Path:
    """Writes lines verbatim (dicts as JSON) to build broken files."""
    lines = [h if isinstance(h, str) else json.dumps(h) for h in [header, *records]]
    path.write_text("\n".join(lines) + "\n")
    return path


def _record_dict(index: int, act: list, wgt: list | None = None, **extra: object) -> dict:
    return {"id": index, "label": 1, "prediction": 1, "act_bits": act,
            "wgt_bits": act if wgt is None else wgt, **extra}


def _read_all(path: Path) -> object:
    return list(iter_records(path))


READERS = pytest.mark.parametrize("read", [_read_all, load_trace], ids=["iter", "load"])


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    header, records = _header(), _records()
    assert write_trace(path, header, records) == 3
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert read_header(path) == header
    assert list(iter_records(path)) == records
    trace = load_trace(path)
    assert trace.header == header
    assert trace.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert trace.ids.tolist() == [0, 1, 2] and trace.ids.dtype == np.int64
    assert trace.labels.tolist() == [0, 1, 2]
    assert trace.predictions.tolist() == [0, -1, 2]
    assert trace.act_bits.dtype == np.int16 and trace.act_bits.shape == (3, 2)
    assert trace.act_bits.tolist() == [[8, 32], [0, 8], [32, 0]]
    assert trace.num_inputs == 3
    with pytest.raises(ValueError):
        trace.act_bits[0, 0] = 16  # read-only


def test_gzip_is_detected_by_content_and_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    write_trace(first, _header(), _records())
    write_trace(second, _header(), _records())
    assert first.read_bytes() == second.read_bytes()  # gzip mtime 0: equal content, equal bytes
    renamed = tmp_path / "c.jsonl"
    renamed.write_bytes(first.read_bytes())
    assert list(iter_records(renamed)) == _records()


def test_json_shape(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path, _header(num_inputs=1), _records(1))
    head, record = (json.loads(line) for line in path.read_text().splitlines())
    assert head["format"] == "hwsim-trace" and head["version"] == 1
    assert head["options"][1] == {"act_bits": 8, "wgt_bits": 8}
    assert head["blocks"] == ["b0", "b1"]
    conv, gate = head["layers"][2], head["layers"][1]
    assert conv["precision"] == "block" and conv["block"] == "b0"
    assert conv["input_size"] == [8, 8] and "in_features" not in conv
    assert gate == {"name": "b0.gate.proj", "kind": "gate", "in_features": 16,
                    "out_features": 10, "block": None,
                    "precision": {"act_bits": 32, "wgt_bits": 32}, "first_layer": False}
    assert head["layers"][5]["block"] == "b1" and head["layers"][5]["precision"]["act_bits"] == 32
    assert record == {"id": 0, "label": 0, "prediction": 0, "act_bits": [8, 32],
                      "wgt_bits": [8, 32]}
    assert header_from_dict(head, "x:1") == _header(num_inputs=1)


def test_static_network(tmp_path: Path) -> None:
    layers = (Layer("fc1", LayerKind.FC, 64, 10, fixed=Precision(2, 2)),)
    model = ModelInfo("lenet", "none", (1, 8, 8), SourceKind.BENCHMARK)
    header = TraceHeader(model, Network("lenet", layers), num_inputs=2)
    path = tmp_path / "s.jsonl"
    write_trace(path, header, [InputRecord(i, None, None, (), ()) for i in range(2)])
    assert json.loads(path.read_text().splitlines()[0])["options"] == []
    trace = load_trace(path)
    assert trace.act_bits.shape == (2, 0) and trace.labels.tolist() == [-1, -1]


def test_blank_trailing_lines_are_fine_but_not_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path, _header(), _records())
    path.write_text(path.read_text() + "\n\n  \n")
    assert len(load_trace(path).ids) == 3
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:2], "", *lines[2:4]]) + "\n")
    with pytest.raises(TraceError, match=r"t\.jsonl:3: blank line before more records"):
        load_trace(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=r"nope\.jsonl:1: cannot open the trace"):
        read_header(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(TraceError, match=r"empty\.jsonl:1: the file is empty"):
        load_trace(tmp_path / "empty.jsonl")


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", r"t\.jsonl:1: the header line is not valid JSON"),
    ("[1, 2]", r"t\.jsonl:1: the header must be a JSON object"),
    ('{"format": "other", "version": 1}', r't\.jsonl:1: format is "other", not \'hwsim-trace\''),
    ('{"format": "hwsim-trace", "version": 7}',
     r"t\.jsonl:1: version 7 is not supported; this hwsim reads version 1"),
])
def test_bad_first_line(tmp_path: Path, line: str, message: str) -> None:
    _write_raw(tmp_path / "t.jsonl", line, [])
    with pytest.raises(TraceError, match=message):
        read_header(tmp_path / "t.jsonl")


def _broken_header(tmp_path: Path, edit: object) -> Path:
    head = header_to_dict(_header(num_inputs=None))
    edit(head)
    return _write_raw(tmp_path / "t.jsonl", head, [])


@pytest.mark.parametrize(("edit", "message"), [
    (lambda h: h.pop("blocks"), r"t\.jsonl:1: blocks: missing key; add it"),
    (lambda h: h.update(num_input=3), r"t\.jsonl:1: num_input: unknown key; did you mean "
                                      r"'num_inputs'\?"),
    (lambda h: h["model"].update(nmae="x"), r":1: model\.nmae: unknown key; did you mean 'name'"),
    (lambda h: h["model"].update(source="real"), r":1: model\.source: unknown source \"real\""),
    (lambda h: h["model"].update(source="trained"), r":1: model\.checkpoint_sha256: required"),
    (lambda h: h["cp"].update(target=1.5), r":1: cp\.target: must be a fraction in \[0, 1\]"),
    (lambda h: h["layers"][2].update(block="b00"),
     r":1: layers\[2\]\.block: unknown block 'b00'; did you mean 'b0'\?"),
    (lambda h: h["layers"][2].update(block="x"),
     r":1: layers\[2\]\.block: unknown block 'x'; expected one of b0, b1"),
    (lambda h: h["layers"][2].update(block=None),
     r":1: layers\[2\]\.precision: 'block' needs the layer to belong to a block"),
    (lambda h: h["layers"][0].update(kernel="3"), r":1: layers\[0\]\.kernel: must be an integer"),
    (lambda h: h["layers"][0].update(in_features=3), r":1: layers\[0\]\.in_features: unknown"),
    (lambda h: h["layers"][6].update(kind="lstm"), r":1: layers\[6\]\.kind: unknown kind"),
    (lambda h: h["options"].append({"act_bits": 0, "wgt_bits": 4}),
     r":1: options\[3\]: act_bits 0 with wgt_bits 4"),
    (lambda h: h["options"].append({"act_bits": 8, "wgt_bits": 8}),
     r":1: options: an \(act_bits, wgt_bits\) pair is listed twice"),
    (lambda h: h.update(num_inputs=-1), r":1: num_inputs: must be a non-negative integer"),
])
def test_bad_header(tmp_path: Path, edit: object, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        read_header(_broken_header(tmp_path, edit))


def test_every_header_problem_is_reported_at_once(tmp_path: Path) -> None:
    def edit(head: dict) -> None:
        head["layers"][2]["block"] = "b9"
        head["model"]["nmae"] = "x"

    with pytest.raises(TraceError) as info:
        read_header(_broken_header(tmp_path, edit))
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{tmp_path}/t.jsonl:1: ") for line in lines)


@READERS
@pytest.mark.parametrize(("record", "message"), [
    (_record_dict(0, [8]), r":3: record has 1 act_bits entries but the header lists 2 blocks"),
    (_record_dict(0, [8, 8], [8]), r":3: act_bits has 2 entries but wgt_bits has 1"),
    (_record_dict(0, [8, 8.5]), r":3: act_bits\[1\] is 8.5; bits must be integers 0\.\.32"),
    (_record_dict(0, [8, 8], [-8, 8]), r":3: wgt_bits\[0\] is -8; bits must be integers"),
    (_record_dict(0, [True, 8]), r":3: act_bits\[0\] is true"),
    (_record_dict(0, [64, 8], [64, 8]), r":3: act_bits\[0\] is 64; bits must be at most 32"),
    (_record_dict(0, [8, 0], [8, 8]), r":3: act_bits\[1\] is 0 but wgt_bits\[1\] is 8"),
    (_record_dict(0, [8, 16]), r":3: block b1 \(entry 1\) runs at act_bits/wgt_bits 16/16, "
                               r"which is not in the header's options \(skip, 8/8, 32/32\)"),
    (_record_dict(0, [8, 8], act_bit=[8, 8]), r":3: record\.act_bit: unknown key; did you mean"),
    ({"id": 0, "label": 1, "prediction": 1, "act_bits": [8, 8]}, r":3: record\.wgt_bits: missing"),
    (_record_dict(-1, [8, 8]), r":3: id: must be an integer"),
    (_record_dict("7", [8, 8]), r":3: id: must be an integer"),
    ({**_record_dict(5, [8, 8]), "label": -1}, r":3: label: must be an integer .* or null"),
    ({**_record_dict(5, [8, 8]), "prediction": 2.0}, r":3: prediction: must be an integer"),
    (_record_dict(0, None), r":3: act_bits: must be a list of integers"),
    ([1, 2], r":3: record: must be a JSON object"),
])
def test_bad_record(tmp_path: Path, read: object, record: object, message: str) -> None:
    head = header_to_dict(_header(num_inputs=None))
    path = _write_raw(tmp_path / "t.jsonl", head, [_record_dict(9, [8, 8]), record])
    with pytest.raises(TraceError, match=r"t\.jsonl" + message):
        read(path)


@READERS
def test_first_bad_line_is_named(tmp_path: Path, read: object) -> None:
    head = header_to_dict(_header(num_inputs=None))
    good = [_record_dict(i, [8, 32]) for i in range(4)]
    bad = [_record_dict(10, [8, 33]), _record_dict(11, [8, 16])]
    path = _write_raw(tmp_path / "t.jsonl", head, [*good, bad[1], bad[0]])
    with pytest.raises(TraceError, match=r"t\.jsonl:6: block b1"):
        read(path)


@READERS
def test_corrupt_line(tmp_path: Path, read: object) -> None:
    head = header_to_dict(_header(num_inputs=None))
    path = _write_raw(tmp_path / "t.jsonl", head, [_record_dict(0, [8, 8]), '{"id": 1, "lab'])
    with pytest.raises(TraceError, match=r"t\.jsonl:3: not valid JSON"):
        read(path)


@READERS
def test_duplicate_ids_name_both_lines(tmp_path: Path, read: object) -> None:
    head = header_to_dict(_header(num_inputs=None))
    records = [_record_dict(i, [8, 8]) for i in (4, 7, 5, 7, 4)]
    path = _write_raw(tmp_path / "t.jsonl", head, records)
    with pytest.raises(TraceError, match=r"t\.jsonl:5: duplicate id 7 \(also on line 3\)"):
        read(path)


@READERS
def test_num_inputs_mismatch(tmp_path: Path, read: object) -> None:
    head = header_to_dict(_header(num_inputs=5))
    path = _write_raw(tmp_path / "t.jsonl", head, [_record_dict(i, [8, 8]) for i in range(3)])
    with pytest.raises(TraceError, match=r"t\.jsonl:1: the header says num_inputs 5 but the "
                                         r"file holds 3 records"):
        read(path)


@READERS
def test_truncated_gzip(tmp_path: Path, read: object) -> None:
    path = tmp_path / "t.jsonl.gz"
    rng = np.random.default_rng(1)
    records = [InputRecord(i, 0, 0, tuple(bits), tuple(bits))
               for i, bits in enumerate(rng.choice([0, 8, 32], size=(3000, 2)).tolist())]
    write_trace(path, _header(num_inputs=None), records)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(TraceError, match=r"t\.jsonl\.gz:(\d+): the gzip stream is truncated "
                                         r"or corrupt .*the last good line is (\d+)") as info:
        read(path)
    found = re.search(r":(\d+): .*last good line is (\d+)", str(info.value))
    line, last_good = int(found[1]), int(found[2])
    assert line == last_good + 1 and 1 < last_good < 3001


def test_writer_validates_records_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    bad = InputRecord(1, None, None, (8,), (8,))
    with pytest.raises(TraceError, match=r"t\.jsonl:3: record has 1 act_bits entries"):
        write_trace(path, _header(None), [_records()[0], bad])
    duplicate = [_records()[0], _records()[0]]
    with pytest.raises(TraceError, match=r"t\.jsonl:3: duplicate id 0 \(first on line 2\)"):
        write_trace(path, _header(None), duplicate)
    with pytest.raises(TraceError, match=r"t\.jsonl:1: the header says num_inputs 3 but 2"):
        write_trace(path, _header(3), _records(2))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_writer_is_atomic(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_trace(path, _header(), _records())
    before = path.read_bytes()
    with pytest.raises(RuntimeError), TraceWriter(path, _header()) as writer:
        writer.write(_records()[0])
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_record_values_validate_themselves() -> None:
    record = InputRecord(np.int64(3), np.int32(1), None, np.array([8, 0]), [8, 0])
    assert record == InputRecord(3, 1, None, (8, 0), (8, 0))
    assert type(record.id) is int and isinstance(record.act_bits, tuple)
    with pytest.raises(TraceError, match=r"act_bits\[1\] is 0 but wgt_bits\[1\] is 4"):
        InputRecord(0, None, None, (8, 0), (8, 4))


def test_header_values_validate_themselves() -> None:
    with pytest.raises(TraceError, match="checkpoint_sha256: required"):
        ModelInfo("m", "d", (3, 8, 8), SourceKind.TRAINED)
    assert ModelInfo("m", "d", [3, 8, 8], SourceKind.TRAINED, "a" * 64).input_shape == (3, 8, 8)
    with pytest.raises(TraceError, match=r"layers: the name 'fc' is used twice"):
        net = _network()
        TraceHeader(_header().model, Network("x", net.layers + net.layers[-1:], net.blocks,
                                             net.options))
    with pytest.raises(TraceError, match=r"options: a network with gated blocks needs options"):
        TraceHeader(_header().model, _network(options=()))


def test_progress_flag_without_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    write_trace(path, _header(), _records())
    assert load_trace(path, progress=True).act_bits.shape == (3, 2)


_BITS = st.sampled_from([(0, 0), (8, 8), (32, 32)])
_RECORDS = st.lists(st.tuples(st.integers(0, 2**40), st.none() | st.integers(0, 999),
                              st.none() | st.integers(0, 999), st.tuples(_BITS, _BITS)),
                    max_size=20, unique_by=lambda r: r[0])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_RECORDS, compressed=st.booleans())
def test_random_records_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list,
                                   compressed: bool) -> None:
    records = [InputRecord(i, label, prediction, tuple(a for a, _ in bits),
                           tuple(w for _, w in bits))
               for i, label, prediction, bits in rows]
    path = tmp_path_factory.mktemp("prop") / ("t.jsonl.gz" if compressed else "t.jsonl")
    write_trace(path, _header(len(records)), records)
    assert list(iter_records(path)) == records
    trace = load_trace(path)
    assert trace.ids.tolist() == [r.id for r in records]
    assert trace.labels.tolist() == [-1 if r.label is None else r.label for r in records]
    assert trace.act_bits.reshape(-1, 2).tolist() == [list(r.act_bits) for r in records]
    assert trace.wgt_bits.reshape(-1, 2).tolist() == [list(r.wgt_bits) for r in records]


def test_gzip_file_with_garbage_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b"")[:2] + b"garbage" * 10)
    with pytest.raises(TraceError, match=r"t\.jsonl\.gz:1: the gzip stream is truncated or "
                                         r"corrupt"):
        read_header(path)


def test_iter_records_against_a_given_header(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path, _header(), _records())
    narrow = TraceHeader(_header().model, _network(options=(SKIP, FULL)))
    with pytest.raises(TraceError, match=r"t\.jsonl:2: block b0 \(entry 0\) runs at "
                                         r"act_bits/wgt_bits 8/8"):
        list(iter_records(path, narrow))


def test_example_in_the_spec_reads_back(tmp_path: Path) -> None:
    """docs/trace-format.md: the example header and records are a valid trace."""
    spec = (Path(__file__).resolve().parents[2] / "docs" / "trace-format.md").read_text()
    header_text = spec.split("```json\n", 1)[1].split("```", 1)[0]
    records_text = spec.split("```jsonl\n", 1)[1].split("```", 1)[0]
    path = _write_raw(tmp_path / "example.jsonl", json.loads(header_text),
                      records_text.splitlines())
    trace = load_trace(path)
    assert trace.header.network.blocks == ("group2.block0", "group3.block0")
    assert trace.act_bits.tolist() == [[16, 32], [16, 8]]
    from hwsim.workload.synth import resnet_cifar_network

    assert trace.header.network == resnet_cifar_network(8, in_channels=1, input_size=28)
