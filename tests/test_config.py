import dataclasses
import re
import typing
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return config_mod.load_file(path)


def test_paths_resolve_relative_to_the_config_file(tmp_path):
    cfg = load_text(
        tmp_path,
        'database = "data/x.db"\n[plugins]\nfolder = "../plug"\n'
        '[[drop_folders]]\npath = "drop/a"\nsource = "vendor_a"\n',
    )
    assert cfg.database == tmp_path / "data" / "x.db"
    assert cfg.plugins.folder == (tmp_path / ".." / "plug").resolve()
    folder = cfg.drop_folders[0]
    assert folder.path == tmp_path / "drop" / "a"
    assert folder.quarantine == tmp_path / "drop" / "a" / "quarantine"
    assert folder.processed == tmp_path / "drop" / "a" / "processed"
    assert folder.region == "VN" and folder.settle_seconds == 2.0


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown key 'default_regoin' \(did you mean 'default_region'"
    ):
        load_text(tmp_path, 'database = "x.db"\ndefault_regoin = "KR"\n')


def test_unknown_nested_key_is_named_with_its_path(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'drop_folders\[0\]\.regon'"):
        load_text(
            tmp_path,
            'database = "x.db"\n[[drop_folders]]\npath = "a"\nsource = "s"\nregon = "KR"\n',
        )


def test_wrong_type_is_named(tmp_path):
    with pytest.raises(
        ConfigError, match=r"key 'tui.page_size' must be an integer, got string '5'"
    ):
        load_text(tmp_path, 'database = "x.db"\n[tui]\npage_size = "5"\n')
    with pytest.raises(
        ConfigError, match=r"key 'drop_folders\[0\]\.settle_seconds' must be a number"
    ):
        load_text(
            tmp_path,
            'database = "x.db"\n[[drop_folders]]\npath = "a"\nsource = "s"\nsettle_seconds = "x"\n',
        )
    with pytest.raises(ConfigError, match=r"key 'plugins.disabled' must be a list"):
        load_text(tmp_path, 'database = "x.db"\n[plugins]\ndisabled = "carectl.builtin.x"\n')


def test_missing_required_keys(tmp_path):
    with pytest.raises(ConfigError, match="missing required key 'database'"):
        load_text(tmp_path, 'default_region = "VN"\n')
    with pytest.raises(ConfigError, match=r"missing required key 'drop_folders\[0\]\.source'"):
        load_text(tmp_path, 'database = "x.db"\n[[drop_folders]]\npath = "a"\n')


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"c\.toml: invalid TOML"):
        load_text(tmp_path, "database = \n")


def test_lookup_order(tmp_path, monkeypatch):
    explicit = tmp_path / "explicit.toml"
    env = tmp_path / "env.toml"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    local = tmp_path / "config" / "carectl.toml"
    local.write_text('database = "local.db"\n')
    monkeypatch.setenv(config_mod.ENV_VAR, str(env))
    assert config_mod.find_config(explicit) == explicit
    assert config_mod.find_config() == env
    monkeypatch.delenv(config_mod.ENV_VAR)
    assert config_mod.find_config() == Path("config/carectl.toml")
    local.unlink()
    monkeypatch.setattr(config_mod, "user_config_path", lambda: tmp_path / "user.toml")
    assert config_mod.find_config() is None
    (tmp_path / "user.toml").write_text('database = "u.db"\n')
    assert config_mod.find_config() == tmp_path / "user.toml"


def test_template_parses_and_every_key_is_documented():
    text = config_mod.template_text()
    cfg = config_mod.parse(__import__("tomllib").loads(text), base=Path("/x"))
    assert cfg.database == Path("/x/carectl.db")

    # Every key the Config accepts appears in the commented template (set or commented out).
    def keys(cls):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            yield f.name
            tp = hints[f.name]
            for candidate in (tp, *typing.get_args(tp)):
                if dataclasses.is_dataclass(candidate):
                    yield from keys(candidate)

    found = set(keys(config_mod.Config))
    assert {"folder", "disabled", "page_size", "settle_seconds", "mapping"} <= found
    for key in found:
        assert re.search(rf"(^|[\s#\[.]){key}( =|\]|\.)", text, re.M), key


def test_example_config_is_the_template():
    """config/carectl.toml is exactly what `carectl init` writes, with repo-relative paths."""
    example = (ROOT / "config" / "carectl.toml").read_text(encoding="utf-8")
    assert example == config_mod.template_text(
        "../var/carectl.db", "../plugins", "../var/drop/demo_vendor"
    )
