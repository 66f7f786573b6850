"""The public Python API: what `import automl` offers."""

from __future__ import annotations

import automl


def test_all_names_exist_and_nothing_public_is_missing():
    assert sorted(automl.__all__) == automl.__all__
    for name in automl.__all__:
        assert hasattr(automl, name), name
    public = {n for n in vars(automl) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(automl, n)).__name__ == "module"}
    assert public - modules == set(automl.__all__)


def test_errors_module_lists_its_tree():
    from automl import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AutoMLError)
        assert name in errors.__doc__
