"""Issue 18 (startup): units as systemd reads them, access as the bot's user, readiness,
exposed listeners and what is no deployment at all. In-process, no wall clock."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest

from acore_doctor.deployment import load_deployment, not_a_deployment
from acore_doctor.probes.entrypoint import (
    drop_ins_of,
    find_units,
    load_unit,
    parse_show,
    parse_unit,
)
from acore_doctor.probes.files import (
    BotUser,
    FileNeed,
    R,
    W,
    X,
    access_problem,
    data_file_needs,
    granted,
    unit_user,
)
from acore_doctor.probes.readiness import (
    CONNECTED,
    NONE,
    UNKNOWN,
    GatewayEvidence,
    LogEvidence,
    ReadyEvidence,
    output_files,
)
from acore_doctor.rules import exposure
from acore_doctor.rules.readiness import (
    NOT_CONNECTED,
    PENDING,
    READY,
    UNVERIFIED,
    judge_readiness,
)
from acore_doctor.settings import load_settings

NOBODY = pwd.getpwnam("nobody")


def _unit(directory: Path, body: str, name: str = "discordbot.service") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("[Service]\n" + body)
    return path


def _drop_in(unit: Path, name: str, body: str, root: Path | None = None) -> Path:
    directory = (root or unit.parent) / f"{unit.name}.d"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("[Service]\n" + body)
    return path


# -- units ----------------------------------------------------------------------------------
def test_the_last_assignment_wins_and_drop_ins_apply_in_name_order(tmp_path: Path) -> None:
    unit = _unit(tmp_path / "etc", "User=root\nUser=bot\nExecStart=/usr/bin/python3 main.py\n")
    _drop_in(unit, "20-later.conf", "User=nobody\n")
    _drop_in(
        unit,
        "10-first.conf",
        "User=alice\nExecStart=\nExecStart=/srv/.venv/bin/python launcher.py\n",
    )
    parsed = parse_unit(unit, drop_ins=drop_ins_of(unit, ()))
    assert parsed is not None
    assert parsed.user == "nobody"  # 20-later.conf is applied after 10-first.conf
    assert parsed.exec_start == "/srv/.venv/bin/python launcher.py"  # reset, then set
    assert [p.name for p in parsed.drop_ins] == ["10-first.conf", "20-later.conf"]


def test_a_drop_in_in_a_higher_priority_directory_masks_the_same_name(tmp_path: Path) -> None:
    low, high = tmp_path / "usr-lib", tmp_path / "etc"
    unit = _unit(low, "User=root\n")
    _drop_in(unit, "override.conf", "User=alice\n", root=low)
    _drop_in(unit, "override.conf", "User=nobody\n", root=high)
    found = drop_ins_of(unit, (low, high))
    assert found == (high / "discordbot.service.d" / "override.conf",)
    assert parse_unit(unit, drop_ins=found).user == "nobody"  # type: ignore[union-attr]


def test_lists_accumulate_and_an_empty_assignment_resets_them(tmp_path: Path) -> None:
    unit = _unit(tmp_path, "ReadWritePaths=/a /b\nSupplementaryGroups=adm\n")
    _drop_in(unit, "x.conf", "ReadWritePaths=\nReadWritePaths=/c\nSupplementaryGroups=users\n")
    parsed = load_unit(unit, ())
    assert parsed is not None
    assert parsed.read_write_paths == ("/c",)
    assert parsed.supplementary_groups == ("adm", "users")
    assert parsed.read_from == "file"  # no systemd here: the files are parsed


def test_a_continued_line_is_one_setting(tmp_path: Path) -> None:
    unit = _unit(tmp_path, "ExecStart=/usr/bin/python3 \\\n    launcher.py --profile discord\n")
    assert parse_unit(unit).exec_start.split() == [  # type: ignore[union-attr]
        "/usr/bin/python3",
        "launcher.py",
        "--profile",
        "discord",
    ]


def test_the_units_user_and_group_are_the_bots(tmp_path: Path) -> None:
    unit = parse_unit(_unit(tmp_path, "User=nobody\nGroup=root\nSupplementaryGroups=adm\n"))
    user = unit_user(unit)  # type: ignore[arg-type]
    assert user.uid == NOBODY.pw_uid and user.name == "nobody"
    assert 0 in user.gids  # Group=root
    assert "User=nobody" in user.source and "Group=root" in user.source
    numeric = unit_user(parse_unit(_unit(tmp_path, "User=61234\nGroup=root\n")))  # type: ignore[arg-type]
    assert (numeric.uid, numeric.gids, numeric.name) == (61234, (0,), "61234")
    with pytest.raises(KeyError):
        unit_user(parse_unit(_unit(tmp_path, "User=no-such-user-here\n")))  # type: ignore[arg-type]


def test_a_unit_whose_drop_in_names_the_deployment_is_found(tmp_path: Path) -> None:
    bot = tmp_path / "acore_bot"
    bot.mkdir()
    (bot / "main.py").write_text("")
    etc = tmp_path / "etc"
    unit = _unit(etc, "ExecStart=/usr/bin/python3 main.py\n")
    assert find_units(bot, (etc,)) == []
    _drop_in(unit, "override.conf", f"WorkingDirectory={bot}\nUser=nobody\n")
    (found,) = find_units(bot, (etc,))
    assert found.user == "nobody" and found.working_directory == str(bot)
    assert "1 drop-in(s)" in found.describe


def test_systemctl_show_output_is_read_as_set_values_only() -> None:
    text = "User=acore\nGroup=\nSupplementaryGroups=adm users\nWorkingDirectory=[not set]\n"
    assert parse_show(text) == {"User": "acore", "SupplementaryGroups": "adm users"}


# -- access as the bot's user ---------------------------------------------------------------
def _user(uid: int, *gids: int) -> BotUser:
    return BotUser(uid, tuple(gids), f"u{uid}", "test")


def test_access_is_judged_from_owner_group_and_other_bits(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DISCORD_TOKEN=x\n")
    env.chmod(0o640)
    st = env.stat()
    owner, member, stranger = _user(st.st_uid), _user(12345, st.st_gid), _user(12345, 54321)
    if st.st_uid == 0:
        owner = _user(0)
    assert granted(st, owner, R | W, env)
    assert granted(st, member, R, env) and not granted(st, member, W, env)
    assert not granted(st, stranger, R, env)
    problem = access_problem(FileNeed(env, ".env", R), stranger)
    assert problem is not None and "cannot be read by u12345" in problem and "mode 0640" in problem


def test_root_reads_anything_but_a_log_path_that_is_a_directory_is_a_problem(
    tmp_path: Path,
) -> None:
    log = tmp_path / "logs" / "bot.log"
    log.mkdir(parents=True)
    assert access_problem(FileNeed(log, "log", W), _user(0)) == "is a directory, not a file"
    assert access_problem(FileNeed(tmp_path / "missing", "x", R), _user(0)) is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in (access_problem(FileNeed(fifo, "x", R), _user(0)) or "")


def test_a_posix_acl_grants_a_named_user(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text("{}")
    path.chmod(0o600)
    # user::rw- user:12345:r-- group::--- mask::r-- other::---
    entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 4, 12345), (0x04, 0, 0xFFFFFFFF),
               (0x10, 4, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)]  # fmt: skip
    data = (2).to_bytes(4, "little") + b"".join(
        t.to_bytes(2, "little") + p.to_bytes(2, "little") + i.to_bytes(4, "little")
        for t, p, i in entries
    )
    try:
        os.setxattr(path, "system.posix_acl_access", data)
    except OSError as exc:
        pytest.skip(f"this filesystem keeps no ACLs: {exc}")
    st = path.stat()
    assert granted(st, _user(12345, 54321), R, path)
    assert not granted(st, _user(12345, 54321), W, path)
    assert not granted(st, _user(23456, 54321), R, path)


def test_x_bits_for_root_need_any_execute_bit(tmp_path: Path) -> None:
    path = tmp_path / "script"
    path.write_text("")
    path.chmod(0o644)
    assert not granted(path.stat(), _user(0), X, path)
    assert stat.S_ISDIR(tmp_path.stat().st_mode) and granted(tmp_path.stat(), _user(0), R | X)


def test_data_files_are_state_or_input_and_never_our_own_bookkeeping(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for relative in (
        "chat_history/1.json",
        "documents/lore.txt",
        "temp/tts_1.wav",
        ".quarantine/20261208/chat_history/1.json",
        "backups/x.tar.gz",
    ):
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
        (data / relative).write_text("x")
    needs, truncated = data_file_needs(data, exclude=(data / "backups",))
    assert not truncated
    wants = {str(n.path.relative_to(data)): n.want for n in needs}
    assert wants == {"chat_history/1.json": R | W, "documents/lore.txt": R}


# -- not a deployment ---------------------------------------------------------------------
def test_a_directory_with_no_entrypoint_config_or_env_is_no_deployment(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    reason = not_a_deployment(tmp_path, tmp_path / ".env")
    assert reason is not None and "not an acore_bot deployment" in reason
    assert load_deployment(tmp_path).not_a_deployment == reason
    (tmp_path / ".env").write_text("DISCORD_TOKEN=x\n")
    assert not_a_deployment(tmp_path, tmp_path / ".env") is None
    (tmp_path / ".env").unlink()
    (tmp_path / "launcher.py").write_text("")
    assert not_a_deployment(tmp_path, tmp_path / ".env") is None


# -- readiness ------------------------------------------------------------------------------
STARTED = 1_700_000_000.0
TIMEOUT = 300.0


def _evidence(*logs: LogEvidence, gateway: str = NONE) -> ReadyEvidence:
    return ReadyEvidence(812, STARTED, "runtime", list(logs), GatewayEvidence(gateway, "gw"))


def test_a_ready_line_since_the_start_is_ready() -> None:
    log = LogEvidence("logs/bot.log", ready_at=STARTED + 5, records=4)
    assert judge_readiness(_evidence(log), STARTED + 3600, TIMEOUT).status == READY


def test_a_gateway_connection_is_ready_without_any_log() -> None:
    log = LogEvidence("journal", problem="no journal entry since the start")
    assert (
        judge_readiness(_evidence(log, gateway=CONNECTED), STARTED + 3600, TIMEOUT).status == READY
    )


def test_within_the_timeout_no_ready_line_is_only_pending() -> None:
    log = LogEvidence("logs/bot.log", records=2)
    verdict = judge_readiness(_evidence(log), STARTED + TIMEOUT - 1, TIMEOUT)
    assert verdict.status == PENDING and "may take up to 5 min" in verdict.message


def test_past_the_timeout_a_log_without_a_ready_line_is_running_but_not_connected() -> None:
    log = LogEvidence("logs/bot.log", records=2)
    verdict = judge_readiness(_evidence(log, gateway=UNKNOWN), STARTED + TIMEOUT + 1, TIMEOUT)
    assert verdict.status == NOT_CONNECTED
    assert "running but not connected" in verdict.message and "pid 812" in verdict.message


def test_past_the_timeout_no_log_and_no_gateway_connection_is_not_connected() -> None:
    log = LogEvidence("no log file and no journalctl", problem="launcher.py logs to stderr")
    verdict = judge_readiness(_evidence(log, gateway=NONE), STARTED + 900, TIMEOUT)
    assert verdict.status == NOT_CONNECTED


def test_no_evidence_either_way_is_unverified_never_silent() -> None:
    log = LogEvidence("no log file and no journalctl", problem="launcher.py logs to stderr")
    verdict = judge_readiness(_evidence(log, gateway=UNKNOWN), STARTED + 900, TIMEOUT)
    assert verdict.status == UNVERIFIED and "could not be verified" in verdict.message


def test_output_files_are_the_regular_files_stdout_and_stderr_go_to(tmp_path: Path) -> None:
    proc = tmp_path / "proc" / "812" / "fd"
    proc.mkdir(parents=True)
    err = tmp_path / "launcher.err"
    err.write_text("")
    os.symlink(str(err), proc / "2")
    os.symlink("pipe:[1234]", proc / "1")
    assert output_files(812, tmp_path / "proc") == [err]


# -- exposed listeners ----------------------------------------------------------------------
def _settings(tmp_path: Path, text: str):
    env = tmp_path / ".env"
    env.write_text(text)
    return load_settings(env, environ={})


@pytest.mark.parametrize(
    ("text", "weak"),
    [
        ("ANALYTICS_DASHBOARD_ENABLED=true\n", "unset, so the password is the default 'admin'"),
        ("ANALYTICS_PASSWORD=admin\n", "is the default 'admin'"),
        ("ANALYTICS_PASSWORD=change_me_in_production\n", "placeholder"),
        ("ANALYTICS_PASSWORD=\n", "is empty"),
        ("ANALYTICS_PASSWORD=Zq8vN2kLr5TgW1xy\n", None),
    ],
)
def test_a_guessable_dashboard_password(tmp_path: Path, text: str, weak: str | None) -> None:
    found = exposure.weak_dashboard_password(_settings(tmp_path, text))
    assert (found is None) if weak is None else (weak in (found or ""))


def test_the_dashboard_is_exposed_unless_it_listens_on_loopback_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "ANALYTICS_DASHBOARD_ENABLED=true\nANALYTICS_PASSWORD=admin\n")
    assert "main.py binds 0.0.0.0:8080" in exposure.dashboard_exposed(settings, None)[0]
    assert "0.0.0.0:8080" in exposure.dashboard_exposed(settings, ["0.0.0.0"])[0]
    assert exposure.dashboard_exposed(settings, ["127.0.0.1", "::1"]) == []


@pytest.mark.parametrize(
    ("argv", "web", "port"),
    [
        (["python", "launcher.py"], True, 8000),
        (["python", "launcher.py", "--profile", "discord"], False, 8000),
        (["python", "launcher.py", "--profile=discord", "--web"], True, 8000),
        (["python", "launcher.py", "--no-web", "--web-port", "9000"], False, 9000),
        (["python", "launcher.py", "--web-port=9000"], True, 9000),
    ],
)
def test_launcher_flags_decide_the_web_adapter(argv: list[str], web: bool, port: int) -> None:
    assert exposure.launcher_web(argv) == (web, port)


def test_an_open_web_api_without_a_token_warns(tmp_path: Path) -> None:
    argv = ["python", "launcher.py"]
    open_api = exposure.web_api_open(_settings(tmp_path, "DISCORD_TOKEN=x\n"), argv)
    assert open_api and "0.0.0.0:8000" in open_api[0]
    assert (
        exposure.web_api_open(_settings(tmp_path, "GESTALT_API_TOKEN=s3cret-t0ken\n"), argv) == []
    )
    assert exposure.web_api_open(_settings(tmp_path, ""), [*argv, "--profile", "discord"]) == []
