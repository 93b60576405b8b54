"""Which bot runs here (systemd unit, process, files, override), the bot's interpreter, and
the runtime (launcher.py) path's own checks."""

from __future__ import annotations

from pathlib import Path

from acore_doctor.probes.entrypoint import detect_entrypoint, find_units, parse_unit
from tests.support.builder import DeploymentBuilder


def test_files_and_override(bot: DeploymentBuilder) -> None:
    assert detect_entrypoint(bot.root, None, [], []).kind == "legacy"
    (bot.root / "data" / "gestalt_memory").mkdir()
    assert detect_entrypoint(bot.root, None, [], []).kind == "runtime"
    bot.remove("launcher.py")
    assert detect_entrypoint(bot.root, None, [], []).kind == "legacy"
    assert detect_entrypoint(bot.root, "launcher.py", [], []).source == "option"
    bot.remove("main.py")
    assert detect_entrypoint(bot.root, None, [], []).kind is None


def test_unreadable_or_huge_unit_is_ignored(tmp_path: Path) -> None:
    huge = tmp_path / "huge.service"
    huge.write_bytes(b"#" * (300 * 1024))
    assert parse_unit(huge) is None
    assert parse_unit(tmp_path / "missing.service") is None


def test_a_unit_directory_reached_twice_is_read_once(
    tmp_path: Path, bot: DeploymentBuilder
) -> None:
    """/lib is a link to /usr/lib on merged-/usr systems: one unit, one finding."""
    usr_lib = tmp_path / "usr" / "lib" / "systemd" / "system"
    usr_lib.mkdir(parents=True)
    (usr_lib / "discordbot.service").write_text(
        f"[Service]\nWorkingDirectory={bot.root}\nExecStart=/usr/bin/python3 main.py\n"
    )
    (tmp_path / "lib").symlink_to(tmp_path / "usr" / "lib")
    lib = tmp_path / "lib" / "systemd" / "system"
    units = find_units(bot.root, (usr_lib, lib, tmp_path / "absent"))
    assert [u.path for u in units] == [usr_lib / "discordbot.service"]
    assert [u.path for u in find_units(bot.root, (lib,))] == [lib / "discordbot.service"]


def test_command_lines_are_split_as_psutil_splits_them() -> None:
    from acore_doctor.probes.bot_process import _split_cmdline

    assert _split_cmdline("python\x00main.py\x00") == ["python", "main.py"]
    assert _split_cmdline("python\x00--token\x00\x00") == ["python", "--token", ""]
    # a process that rewrote its title: one string with spaces
    assert _split_cmdline("python main.py --flag") == ["python", "main.py", "--flag"]
    assert _split_cmdline("bot worker: idle\x00") == ["bot", "worker:", "idle"]


def test_the_process_scan_sees_this_interpreters_siblings_but_never_itself() -> None:
    import os

    from acore_doctor.probes.bot_process import command_lines

    pids = {pid for pid, _ in command_lines()}
    assert os.getpid() not in pids
    assert os.getppid() in pids or os.getppid() == 0  # the shell or runner above us
