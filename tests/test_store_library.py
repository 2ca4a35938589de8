"""SQLite's library-wide settings change once per process, whoever asks first: after the demo
worker's configure, the segments' free_allocator must not shut the library down again (with
the statistics off, the memory in use reads 0 even with connections open)."""

import subprocess
import sys


def test_settings_change_once_per_process_whoever_asks(tmp_path):
    code = (
        "import sqlite3, sys\n"
        "from carectl.demo.staging import unlocked_sqlite\n"
        "from carectl.segments.halves import free_allocator\n"
        "first = unlocked_sqlite()\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('CREATE TABLE t (x)')\n"
        "c.execute('INSERT INTO t VALUES (41)')\n"
        "c.commit()\n"
        "again = free_allocator()\n"
        "c.execute('UPDATE t SET x = x + 1')\n"
        "c.commit()\n"
        "print(first, again, c.execute('SELECT x FROM t').fetchone()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["True", "False", "42"]
