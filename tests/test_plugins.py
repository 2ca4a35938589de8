"""The plugin manager loads built-ins, entry points and the plugins folder; reports bad ones."""

import json
import textwrap

from carectl import plugins
from tests.conftest import run_subprocess, write_config

GOOD = textwrap.dedent(
    '''
    """A folder plugin that tags every customer."""
    from carectl import hookimpl

    @hookimpl
    def classify_customer(customer):
        return ["from-folder"]
    '''
)
BROKEN = "import carectl\nraise RuntimeError('vendor typo')\n"
SYNTAX = "def oops(:\n"


def make_folder(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir(parents=True)
    (folder / "good_vendor.py").write_text(GOOD)
    (folder / "broken_vendor.py").write_text(BROKEN)
    (folder / "syntax_vendor.py").write_text(SYNTAX)
    (folder / "_private.py").write_text(BROKEN)  # underscore files are helpers, not plugins
    return folder


def test_builtins_are_registered_like_any_plugin():
    pm = plugins.build(None, entry_points=False)
    names = {d["name"]: d for d in plugins.describe(pm)}
    for builtin in plugins.DEFAULT_PLUGINS:
        assert names[builtin]["origin"] == "builtin"
        assert names[builtin]["status"] == "loaded"
        assert names[builtin]["hooks"], builtin
    assert "match_lead" in names["carectl.builtin.match_scored"]["hooks"]


def test_folder_plugins_load_and_broken_ones_are_reported(tmp_path):
    folder = make_folder(tmp_path)
    pm = plugins.build(folder, entry_points=False)
    assert pm.hook.classify_customer(ctx=None, customer={}) == [["from-folder"]]
    errors = {e.where: e.error for e in pm.load_errors}
    assert set(errors) == {str(folder / "broken_vendor.py"), str(folder / "syntax_vendor.py")}
    assert "RuntimeError: vendor typo" in errors[str(folder / "broken_vendor.py")]
    assert "SyntaxError" in errors[str(folder / "syntax_vendor.py")]


def test_disabled_blocks_a_builtin(tmp_path):
    pm = plugins.build(None, ["carectl.builtin.match_scored"], entry_points=False)
    assert pm.get_plugin("carectl.builtin.match_scored") is None
    listed = {d["name"]: d["status"] for d in plugins.describe(pm)}
    assert listed["carectl.builtin.match_scored"] == "blocked"


def test_cli_lists_all_three_sources_and_still_runs_with_a_broken_plugin(tmp_path):
    """An entry-point plugin comes from an installed distribution: fake one with a dist-info dir."""
    site = tmp_path / "site"
    (site / "acme_carectl-1.0.dist-info").mkdir(parents=True)
    (site / "acme_carectl-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-carectl\nVersion: 1.0\n"
    )
    (site / "acme_carectl-1.0.dist-info" / "entry_points.txt").write_text(
        "[carectl]\nacme = acme_carectl\nacme_broken = acme_broken\n"
    )
    (site / "acme_carectl.py").write_text(
        "from carectl import hookimpl\n\n@hookimpl\ndef startup(ctx):\n    pass\n"
    )
    (site / "acme_broken.py").write_text("raise ImportError('missing dependency acme_sdk')\n")
    make_folder(tmp_path / "cfg")
    cfg = write_config(tmp_path / "cfg")
    result = run_subprocess(
        "--config", str(cfg), "plugins", "--json", env={"PYTHONPATH": str(site)}
    )
    assert result.code == 0, result.err
    rows = {r["name"]: r for r in json.loads(result.out)}
    assert rows["acme"]["origin"] == "entrypoint" and rows["acme"]["hooks"] == ["startup"]
    assert "acme-carectl" in rows["acme"]["where"]
    assert rows["good_vendor"]["origin"] == "folder"
    assert rows["good_vendor"]["hooks"] == ["classify_customer"]
    assert rows["carectl.builtin.timeline"]["origin"] == "builtin"
    failed = {r["where"]: r for r in rows.values() if r["status"] == "error"}
    assert any("broken_vendor.py" in w for w in failed)
    assert any("missing dependency acme_sdk" in r["doc"] for r in failed.values())
    # The broken plugins are reported on stderr with their path; the command still worked.
    assert "broken_vendor.py" in result.err and "vendor typo" in result.err
