"""Model files that ask for more memory than they are: refused before anything is inflated
or allocated (caps on the unpacked size, one read per member, array headers that must match
their bytes)."""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
from numpy.lib import format as npy

from automl.bundle import load_model, read_manifest
from automl.bundle._format import MAX_MODEL_BYTES, max_model_bytes
from automl.errors import ConfigError, ModelFileError, UnsafeModelError
from tests.bundle_files import (
    SCHEMA,
    attr,
    dump_npy,
    edit_schema,
    find,
    fitted,
    load_npy,
    members,
    save,
    write,
)
from tests.bundle_worker import running


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    pipe, X, manifest = fitted("linear")
    return save(tmp_path_factory.mktemp("limits") / "linear.skops", pipe, manifest), X


def test_the_cap_is_a_documented_constant_overridable_by_the_environment(monkeypatch):
    assert max_model_bytes() == MAX_MODEL_BYTES == 2**30
    monkeypatch.setenv("AUTOML_MAX_MODEL_BYTES", str(5 * 2**20))
    assert max_model_bytes() == 5 * 2**20
    monkeypatch.setenv("AUTOML_MAX_MODEL_BYTES", "lots")
    with pytest.raises(ConfigError, match="AUTOML_MAX_MODEL_BYTES.*whole number of bytes"):
        max_model_bytes()


def test_files_larger_than_the_cap_are_refused_before_reading(model, tmp_path, monkeypatch):
    path = write(tmp_path / "big.skops", {**members(model[0]), "junk.bin": os.urandom(2**21)})
    monkeypatch.setenv("AUTOML_MAX_MODEL_BYTES", str(2**20))
    for reader in (load_model, read_manifest):
        with pytest.raises(ModelFileError, match="raise AUTOML_MAX_MODEL_BYTES"):
            reader(path)


def test_what_members_unpack_to_is_capped_before_inflating(model, tmp_path, monkeypatch):
    """A zip bomb: 64 MiB of zeros compress to ~64 KiB; the declared size is refused."""
    path, _ = model
    monkeypatch.setenv("AUTOML_MAX_MODEL_BYTES", str(32 * 2**20))
    bomb = write(tmp_path / "bomb.skops", {**members(path), "zeros.npy": bytes(64 * 2**20)})
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(ModelFileError, match=r"unpacks to 6\d,\d{3},\d{3} bytes"):
        load_model(bomb)


def test_a_declared_size_that_lies_is_caught(model, tmp_path):
    """The central directory says a member is smaller than its data (reading stops at the
    declared size, and the member is damaged) or far larger (refused by the cap)."""
    path, _ = model
    data = bytearray(path.read_bytes())
    at = _central_entry(data, SCHEMA)
    lying = tmp_path / "lying.skops"
    for size, error in [(100, "damaged|not the size"), (0xFFFFFFF0, "unpacks to")]:
        struct.pack_into("<I", data, at + 24, size)  # the entry's uncompressed size
        lying.write_bytes(bytes(data))
        with pytest.raises(ModelFileError, match=error):
            load_model(lying)


def _central_entry(data: bytes, name: str) -> int:
    """Where the central directory's entry for ``name`` starts."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46:at + 46 + struct.unpack_from("<H", data, at + 28)[0]] != name.encode():
        at = data.index(b"PK\x01\x02", at + 46)
    return at


def test_an_array_whose_header_claims_more_than_its_bytes_is_refused(model, tmp_path):
    path, _ = model
    parts = members(path)
    name = next(n for n in parts if n.endswith(".npy") and load_npy(parts[n]).dtype == "f8")
    fake = io.BytesIO()
    npy.write_array_header_1_0(fake, {"descr": "<f8", "fortran_order": False,
                                      "shape": (10**12,)})  # 8 TB, for 24 bytes of data
    parts[name] = fake.getvalue() + bytes(24)
    with pytest.raises(ModelFileError, match=r"declares shape \(1000000000000,\)"):
        load_model(write(tmp_path / "header.skops", parts))


@pytest.mark.slow
def test_a_member_read_by_many_nodes_is_refused_before_any_is_read(model, tmp_path):
    """One 16 MiB array referenced 2,000 times would ask for 32 GiB (the child process has a
    4 GiB limit, so the old loader fails there with MemoryError)."""
    path, X = model
    parts = members(path)
    parts["big.npy"] = dump_npy(np.zeros(2 * 2**20))

    def amplify(schema):
        scaler = next(n for n in find(schema, "StandardScaler") if "mean_" in n["content"][
            "content"])
        refs = [{"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode",
                 "type": "numpy", "file": "big.npy", "__id__": 10**6 + i} for i in range(2000)]
        attr(scaler, "n_samples_seen_")  # the attribute exists: the list goes next to it
        scaler["content"]["content"]["copies_"] = {
            "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
            "content": refs, "__id__": 99}
        key = dict(scaler["content"]["key_types"]["content"][0])
        scaler["content"]["key_types"]["content"].append(key)

    src = write(tmp_path / "with-big.skops", parts)
    dst = edit_schema(src, tmp_path / "amplified.skops", amplify)
    rows = tmp_path / "rows.parquet"
    X.head(5).to_parquet(rows)
    with running(rows, n=1, timeout=120) as pool:
        answer = pool.run([dst])[str(dst)]
    assert answer["outcome"] == "UnsafeModelError", answer
    assert "big.npy read 2000 times" in answer["message"]


def test_members_nobody_reads_and_references_to_missing_members_are_refused(model, tmp_path):
    path, _ = model
    parts = members(path)
    with pytest.raises(UnsafeModelError, match="does not use"):
        load_model(write(tmp_path / "extra.skops", {**parts, "extra.npy": dump_npy(np.ones(2))}))
    name = next(n for n in parts if n.endswith(".npy"))
    del parts[name]
    with pytest.raises(UnsafeModelError, match="lacks"):
        load_model(write(tmp_path / "missing.skops", parts))
