"""One digest over manifest and payload, and the optional HMAC signature: an edited manifest
is refused like an edited payload, and with AUTOML_MODEL_KEY set only models signed with
that key load."""

from __future__ import annotations

import json
import os

import pytest

from automl.bundle import MANIFEST_NAME, load_model, read_manifest, save_model
from automl.errors import ConfigError, ModelFileError, UnsafeModelError
from tests.bundle_files import edit_manifest, fitted, members, reseal, write

KEY, OTHER = "k" * 16 + "-deployment-one", "k" * 16 + "-deployment-two"


@pytest.fixture(scope="module")
def trained():
    return fitted("linear")


@pytest.fixture
def model(trained, tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOML_MODEL_KEY", raising=False)
    pipe, X, manifest = trained
    return save_model(tmp_path / "m.skops", pipe, manifest), X


def _swap_classes(manifest):
    manifest["classes"] = manifest["classes"][::-1]


def test_swapped_class_labels_in_the_manifest_alone_are_refused(model, tmp_path):
    path, X = model
    swapped = edit_manifest(path, tmp_path / "swapped.skops", _swap_classes, seal=False)
    for reader in (load_model, read_manifest):
        with pytest.raises(UnsafeModelError, match="modified after it was saved"):
            reader(swapped)
    assert load_model(path).predict(X.head(3))["prediction"].isin(["no", "yes"]).all()


def test_every_manifest_field_is_covered(model, tmp_path):
    path, _ = model
    for field, value in [("target", "other"), ("metrics", {"cv": 1.0}), ("task", "multiclass"),
                         ("created_at", "2000-01-01T00:00:00+00:00")]:
        edited = edit_manifest(path, tmp_path / f"{field}.skops",
                               lambda m, f=field, v=value: m.__setitem__(f, v), seal=False)
        with pytest.raises(UnsafeModelError, match="modified"):
            load_model(edited)


def test_version_1_files_cannot_prove_their_manifest_and_are_refused(model, tmp_path):
    path, _ = model

    def older(manifest):
        manifest["format_version"] = 1
        manifest["payload_sha256"] = manifest.pop("sha256")

    old = edit_manifest(path, tmp_path / "v1.skops", older, seal=False)
    for reader in (load_model, read_manifest):
        with pytest.raises(ModelFileError, match="version 1 cannot prove.*Re-export") as err:
            reader(old)
        assert not isinstance(err.value, UnsafeModelError)


def test_signed_files_load_only_with_their_key(trained, tmp_path, monkeypatch):
    pipe, X, manifest = trained
    monkeypatch.setenv("AUTOML_MODEL_KEY", KEY)
    signed = save_model(tmp_path / "signed.skops", pipe, manifest)
    assert read_manifest(signed).signature.startswith("hmac-sha256:")
    assert len(load_model(signed).predict(X.head(3))) == 3
    monkeypatch.setenv("AUTOML_MODEL_KEY", OTHER)
    for reader in (load_model, read_manifest):
        with pytest.raises(UnsafeModelError, match="signed with another key"):
            reader(signed)
    monkeypatch.delenv("AUTOML_MODEL_KEY")
    assert load_model(signed).classes == ["no", "yes"]  # no key: the digest is still checked


def test_with_a_key_set_unsigned_and_re_sealed_files_are_refused(model, tmp_path, monkeypatch):
    path, _ = model
    monkeypatch.setenv("AUTOML_MODEL_KEY", KEY)
    with pytest.raises(UnsafeModelError, match="is not signed.*AUTOML_MODEL_KEY"):
        load_model(path)
    signed = reseal(path, tmp_path / "signed.skops")  # an attacker recomputes the digest...
    parts = members(signed)
    manifest = json.loads(parts[MANIFEST_NAME])
    manifest["signature"] = "hmac-sha256:" + "0" * 64  # ...but cannot sign without the key
    resealed = write(tmp_path / "forged.skops", {**parts, MANIFEST_NAME: json.dumps(
        manifest).encode()}, seal=False)
    with pytest.raises(UnsafeModelError, match="signed with another key"):
        load_model(resealed)


def test_a_short_key_is_a_setting_error(trained, tmp_path, monkeypatch):
    pipe, _, manifest = trained
    monkeypatch.setenv("AUTOML_MODEL_KEY", "short")
    with pytest.raises(ConfigError, match="at least 16"):
        save_model(tmp_path / "m.skops", pipe, manifest)
    assert not os.listdir(tmp_path)


def test_read_manifest_rechecks_a_file_that_changed(model, tmp_path):
    path, _ = model
    copy = tmp_path / "copy.skops"
    copy.write_bytes(path.read_bytes())
    assert read_manifest(copy).classes == ("no", "yes")
    edit_manifest(path, copy, _swap_classes, seal=False)  # same path, new content
    with pytest.raises(UnsafeModelError, match="modified"):
        read_manifest(copy)
