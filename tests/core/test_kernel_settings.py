"""`[runs] prestart_kernels` and `[runs] preload`: defaults, sources and refusals."""
from __future__ import annotations

import pytest

from jupyter_mlprod.errors import InvalidInput
from jupyter_mlprod.settings import Settings


def test_the_pool_is_sized_to_parallelism_unless_set(tmp_path):
    assert Settings.load(tmp_path, {"parallelism": 3}, environ={}).prestart_kernels == 3
    (tmp_path / "mlprod.toml").write_text('[runs]\nprestart_kernels = 0\npreload = ["pandas"]\n')
    settings = Settings.load(tmp_path, environ={})
    assert settings.prestart_kernels == 0 and settings.preload == ("pandas",)
    from_env = Settings.load(tmp_path, environ={"MLPROD_PRELOAD": "pandas, sklearn.linear_model",
                                                "MLPROD_PRESTART_KERNELS": "4"})
    assert from_env.preload == ("pandas", "sklearn.linear_model") and from_env.prestart_kernels == 4


@pytest.mark.parametrize("overrides, field", [
    ({"prestart_kernels": -1}, "prestart_kernels"),
    ({"preload": ["pandas; import os"]}, "preload"),
    ({"preload": "a b"}, "preload"),
])
def test_bad_values_are_refused_naming_the_setting(tmp_path, overrides, field):
    with pytest.raises(InvalidInput) as caught:
        Settings.load(tmp_path, overrides, environ={})
    assert caught.value.field == field


def test_preload_must_be_a_list_in_mlprod_toml(tmp_path):
    (tmp_path / "mlprod.toml").write_text("[runs]\npreload = 3\n")
    with pytest.raises(InvalidInput, match="preload must be a list of names"):
        Settings.load(tmp_path, environ={})
