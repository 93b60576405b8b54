"""Directories the detected entrypoint writes, and files anyone could change."""

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.probes.entrypoint import Entrypoint, Unit
from acore_doctor.probes.files import (
    BotUser,
    access_problem,
    dir_state,
    required_dirs,
    start_needs,
    unreachable_ancestor,
    world_writable,
)
from acore_doctor.probes.personas import PersonaLoad

GUIDE = "guides/deployment_issues.md"


def _rel(deployment: Deployment, path) -> str:
    try:
        return str(path.relative_to(deployment.bot_dir))
    except ValueError:
        return str(path)


@pytest.mark.critical
@check(
    "Directories the bot writes exist and are writable by its user",
    "Give each listed directory (or the parent it is created in) to the bot's user: "
    "'mkdir -p DIR && chown -R BOTUSER: DIR', and list it in ReadWritePaths= of the bot's "
    "unit if it has ProtectSystem=strict. Run the bot from its own directory.",
    guide=f"{GUIDE}#data-directory-not-writable",
)
def test_bot_dirs_writable(
    deployment: Deployment,
    entrypoint: Entrypoint,
    bot_user: BotUser,
    systemd_units: list[Unit],
    record_details,
) -> None:
    # Judged for the bot's user under the bot's unit, never for the suite's own sandbox
    # (docs/severity.md): a shipped acore-doctor unit has ProtectSystem=strict.
    unit = systemd_units[0] if systemd_units else None
    states = [
        dir_state(p, why, bot_user, unit) for p, why in required_dirs(deployment, entrypoint.kind)
    ]
    judged = f"unit {unit.path}" if unit else "no systemd unit found"
    to_create = [_rel(deployment, s.path) for s in states if not s.exists and s.creatable]
    record_details(
        f"bot user {bot_user.name} ({bot_user.source}), {judged}; checked "
        + ", ".join(_rel(deployment, s.path) for s in states)
        + (
            f"; created by the bot at start or first write: {', '.join(to_create)}"
            if to_create
            else ""
        ),
    )
    bad = []
    for s in states:
        name = _rel(deployment, s.path)
        if not s.exists:
            # Missing is fine when the bot can create it (Config.validate() at start, other
            # writers at their first write); critical only when it cannot.
            if not s.creatable:
                bad.append(
                    f"{name} ({s.why}) does not exist and cannot be created ({s.error or s.how})"
                )
        elif s.error and not s.is_dir:
            bad.append(f"{name}: {s.error}")
        elif not s.is_dir:
            bad.append(f"{name} is not a directory")
        elif not s.writable:
            bad.append(f"{name} is not writable by {bot_user.name} ({s.error or s.how})")
    assert not bad, (
        f"expected writable directories for the {entrypoint.kind or 'undetected'} bot "
        f"(user {bot_user.name}, {judged}), found: " + "; ".join(bad)
    )


@pytest.mark.warning
@check(
    "No file under the deployment is world-writable",
    "Run 'chmod o-w' on each listed path: any local user could change the bot's code, "
    "personas or data.",
    guide=f"{GUIDE}#world-writable-files",
)
def test_no_world_writable(deployment: Deployment) -> None:
    found, truncated = world_writable(deployment.bot_dir)
    note = " (walk stopped early: very many files)" if truncated else ""
    assert not found, f"expected no world-writable paths, found {len(found)}{note}: " + ", ".join(
        _rel(deployment, p) for p in found[:20]
    )


@pytest.mark.critical
@check(
    "Files the bot opens at start are usable by its user",
    "Give each listed file to the bot's user, or open its mode to it: 'chown BOTUSER: FILE' "
    "(or 'chgrp BOTGROUP FILE && chmod g+r FILE'); keep .env private with 'chmod 600 .env' "
    "after the chown. A log path that is a directory: point LOG_FILE_PATH at a file.",
    guide=f"{GUIDE}#file-unreadable-by-the-bots-user",
)
def test_start_files_usable_by_bot_user(
    deployment: Deployment, entrypoint: Entrypoint, bot_user: BotUser, record_details
) -> None:
    # Judged for the bot's user (its process, its unit's User=/Group=, else the directory's
    # owner) from mode bits, owner, groups and ACLs, never by opening as the suite's user.
    needs, _ = start_needs(deployment, entrypoint.kind)
    record_details(
        f"judged as {bot_user.name} (uid {bot_user.uid}, gids "
        f"{','.join(map(str, bot_user.gids))}; {bot_user.source}): {len(needs)} paths"
    )
    bad = []
    blocked = unreachable_ancestor(deployment.bot_dir, bot_user)
    if blocked:
        bad.append(f"the bot's directory cannot be reached: {blocked}")
    for need in needs:
        problem = access_problem(need, bot_user)
        if problem:
            bad.append(f"{_rel(deployment, need.path)} ({need.why}) {problem}")
    assert not bad, (
        f"expected every file the {entrypoint.kind or 'undetected'} bot opens at start to be "
        f"usable by {bot_user.name}, found: "
        + "; ".join(bad[:20])
        + (f" (and {len(bad) - 20} more)" if len(bad) > 20 else "")
    )


@pytest.mark.warning
@check(
    "Persona cards the bot does not select are readable by its user",
    "Give the listed cards to the bot's user ('chown BOTUSER: CARD' or 'chmod o+r CARD'): "
    "the runtime loader skips an unreadable card without a word.",
    guide=f"{GUIDE}#file-unreadable-by-the-bots-user",
)
def test_other_cards_readable_by_bot_user(
    deployment: Deployment,
    entrypoint: Entrypoint,
    bot_user: BotUser,
    persona_load: PersonaLoad,
    record_details,
) -> None:
    _, others = start_needs(deployment, entrypoint.kind)
    # A card the running loader never reads (legacy: outside ACTIVE_PERSONAS) is information.
    never_read = {path for path, _ in persona_load.not_read}
    unread = [need for need in others if need.path in never_read]
    if unread:
        record_details(
            "not read by the running entrypoint: "
            + ", ".join(_rel(deployment, need.path) for need in unread[:20])
        )
    bad = [
        f"{_rel(deployment, need.path)} {problem}"
        for need in others
        if need.path not in never_read and (problem := access_problem(need, bot_user))
    ]
    assert not bad, f"expected persona cards {bot_user.name} can read, found: " + "; ".join(
        bad[:20]
    )
