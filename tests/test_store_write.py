"""The import's write path (store/write.py): several files a transaction, with the outcomes and the
stored rows a file a transaction gave; a batch that loses a race to another writer written again
file by file; the record's JSON as the encoder writes it."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from nianbao import service
from nianbao.authoring.sample import write_samples
from nianbao.store import ADDED, NEW_VERSION, UNCHANGED, Store, _json, _location_json
from nianbao.store.write import Writer, prepare, record_json


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("samples")
    write_samples(out, 12, seed=3, error_rate=0.3, fmts=("txt", "md", "html", "docx"))
    return sorted(p for p in out.iterdir() if p.suffix != ".jsonl")


def test_record_json_is_the_records_json(samples: list[Path]) -> None:
    for path in samples:
        report = service.parse_path(path)
        locations = {p: _location_json(loc) for p, loc in report.locations.items()}
        assert json.loads(record_json(report, locations)) == json.loads(_json(report.to_dict()))
        assert json.loads(zlib.decompress(prepare(report).record)) == report.to_dict()


def test_one_batch_holds_a_new_version_and_a_copy(db_url: str, samples: list[Path], tmp_path: Path) -> None:
    first = next(p for p in samples if p.suffix == ".txt")
    second, copy = tmp_path / f"b{first.suffix}", tmp_path / f"c{first.suffix}"
    second.write_bytes(first.read_bytes() + b"\n\n")  # the same report, other bytes
    copy.write_bytes(first.read_bytes())  # the same bytes
    with Store(db_url) as store, store.writer() as writer:
        outcomes = writer.write([prepare(service.parse_path(p), p.read_bytes()) for p in (first, second, copy)])
        assert [o.status for o in outcomes] == [ADDED, NEW_VERSION, UNCHANGED]
        assert outcomes[0].report_id == outcomes[1].report_id == outcomes[2].report_id
        assert outcomes[2].version_id == outcomes[0].version_id
        versions = store.versions(outcomes[0].report_id or 0)
        assert [(v.id, v.active) for v in versions] == [(outcomes[1].version_id, True), (outcomes[0].version_id, False)]
        assert store.original(outcomes[1].sha256) == second.read_bytes()


def test_a_batch_that_loses_a_race_is_written_file_by_file(
    db_url: str, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer stored a file after this batch looked (here: the look is made blind): the
    unique key stops the batch, which is rolled back whole (the agency it made too) and written
    again a file a transaction."""
    files = [prepare(service.parse_path(p), p.read_bytes()) for p in samples[:3]]
    with Store(db_url) as store:
        with store.writer() as other:
            [stored] = other.write([files[1]])
        with store.writer() as writer:
            blind = iter([{}])
            real = Writer._stored
            monkeypatch.setattr(Writer, "_stored", lambda self, c, shas: next(blind, None) or real(self, c, shas))
            outcomes = writer.write(files)
        assert [o.status for o in outcomes] == [ADDED, UNCHANGED, ADDED]
        assert outcomes[1].version_id == stored.version_id
        assert store.counts()["versions"] == 3
        names = [a.name for a in store.agencies()]
        assert sorted(names) == sorted({f.agency for f in files if f.agency})


def test_known_files_keep_their_place_among_new_ones(db_url: str, samples: list[Path]) -> None:
    with Store(db_url) as store:
        [known] = service.import_paths(store, [samples[1]], jobs=1)
        seen: list[str] = []
        outcomes = service.import_paths(store, samples[:4], jobs=2, on_outcome=lambda o: seen.append(o.name))
        assert [o.status for o in outcomes] == [ADDED, UNCHANGED, ADDED, ADDED]
        assert outcomes[1].version_id == known.version_id
        assert seen == [o.name for o in outcomes] == [str(p) for p in samples[:4]]


def test_batches_grow_to_their_cap() -> None:
    sizes = [len(b) for b in service._batches(iter(range(200)), most=64)]
    assert sizes == [1, 2, 4, 8, 16, 32, 64, 64, 9]
