"""The public Python API: what `import automl` offers."""

from __future__ import annotations

import subprocess
import sys

import automl


def test_all_names_exist_and_are_sorted():
    assert sorted(automl.__all__) == automl.__all__
    for name in automl.__all__:
        assert getattr(automl, name) is not None, name
    assert set(automl.__all__) <= set(dir(automl))


def test_importing_the_package_stays_light():
    code = ("import sys, automl, automl.data; "
            "print(sorted(m for m in ('sklearn', 'optuna', 'sqlglot') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"  # the SQL parser loads with the first query


def test_errors_module_lists_its_tree():
    from automl import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AutoMLError)
        assert name in errors.__doc__
