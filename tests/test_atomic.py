"""One atomic writer: whole files or none, never through a symlink, queued by a lock."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from floe_compute_kit._atomic import AtomicWriteError, write_atomic

pytestmark = pytest.mark.requirement("FR-010")


def test_writes_and_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "profiles.yml"
    write_atomic(target, "first\n")
    write_atomic(target, b"second\n")
    assert target.read_text() == "second\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_refuses_a_symlink_and_a_missing_folder(tmp_path: Path) -> None:
    real = tmp_path / "real.yml"
    real.write_text("keep\n")
    link = tmp_path / "link.yml"
    link.symlink_to(real)
    with pytest.raises(AtomicWriteError, match="symbolic link"):
        write_atomic(link, "evil\n")
    assert real.read_text() == "keep\n"
    with pytest.raises(AtomicWriteError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x.yml", "x")


def test_a_file_size_limit_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "profiles.yml"
    target.write_text("previous\n")
    code = (
        "import resource, sys; from pathlib import Path\n"
        "from floe_compute_kit._atomic import write_atomic, AtomicWriteError\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "try:\n    write_atomic(Path(sys.argv[1]), 'x' * 100000)\n"
        "except AtomicWriteError as e:\n    print(e); sys.exit(2)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(target)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "previous file is intact" in done.stdout
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".profiles.yml.lock", "profiles.yml"]
    assert resource.getrlimit(resource.RLIMIT_FSIZE)  # this process is not limited


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    code = (
        "import sys; from pathlib import Path\n"
        "from floe_compute_kit._atomic import write_atomic\n"
        "for _ in range(30):\n    write_atomic(Path(sys.argv[1]), sys.argv[2] * 200000)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(target), letter]) for letter in "abcd"
    ]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    text = target.read_text()
    assert len(text) == 200000
    assert len(set(text)) == 1
    assert os.stat(target).st_mode & 0o777 == 0o644


def test_make_folder_names_the_folder_it_cannot_make(tmp_path: Path) -> None:
    from floe_compute_kit._atomic import make_folder

    make_folder(tmp_path / "a" / "b", fix="unused")
    assert (tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(AtomicWriteError) as info:
        make_folder(tmp_path / "file" / "sub", fix="choose another")
    assert str(info.value) == (
        f"{tmp_path / 'file' / 'sub'}: cannot create the folder: Not a directory; choose another"
    )
