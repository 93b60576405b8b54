"""What a bot declares (pyproject.toml, uv.lock, requirements.txt) and how it is judged against
the distributions installed in its interpreter: names, versions, markers, extras, conflicts,
and the install command that fits the bot."""

from __future__ import annotations

from pathlib import Path

from acore_doctor.probes.declared import read_declared
from acore_doctor.probes.interpreter import Distribution
from acore_doctor.rules.dependencies import conflicts, install_command, unmet_requirements

#: The bot's interpreter: CPython 3.11 on Linux.
LINUX_311 = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.1.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.11.7",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "sys_platform": "linux",
}


def installed(*items: tuple[str, str] | tuple[str, str, tuple[str, ...]]) -> dict:
    out = {}
    for item in items:
        name, version, requires = (*item, ())[:3]
        key = name.lower().replace("_", "-").replace(".", "-")
        out[key] = Distribution(name, version, tuple(requires))
    return out


def pyproject(root: Path, deps: list[str], optional: dict | None = None, name="acore-bot") -> None:
    lines = ["[project]", f'name = "{name}"', 'version = "1.0"', "dependencies = ["]
    lines += [f"    {d!r}," for d in deps] + ["]"]
    if optional:
        lines.append("[project.optional-dependencies]")
        lines += [f"{k} = {v!r}" for k, v in optional.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")


def unmet_of(root: Path, dists: dict, markers: dict = LINUX_311) -> list[str]:
    unmet, _ = unmet_requirements(read_declared(root), dists, markers)
    return [str(u) for u in unmet]


def test_nothing_declared_is_nothing_to_judge(tmp_path: Path) -> None:
    declared = read_declared(tmp_path)
    assert not declared.anything
    assert unmet_requirements(declared, {}, LINUX_311) == ([], [])


def test_names_are_normalised_and_versions_checked(tmp_path: Path) -> None:
    pyproject(tmp_path, ["Discord.py>=2.3", "python_dotenv>=1.0", "numpy>=1.26,<2"])
    dists = installed(("discord.py", "2.4.0"), ("python-dotenv", "1.0.1"), ("numpy", "2.1.0"))
    assert unmet_of(tmp_path, dists) == ["numpy<2,>=1.26 (pyproject.toml): 2.1.0 installed"]
    dists = installed(("discord.py", "2.4.0"), ("python-dotenv", "1.0.1"))
    assert unmet_of(tmp_path, dists) == ["numpy<2,>=1.26 (pyproject.toml): not installed"]


def test_markers_that_do_not_apply_never_count(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        [
            "audioop-lts>=0.2; python_version >= '3.13'",
            "pywin32; sys_platform == 'win32'",
            "uvloop; platform_system == 'Linux'",
            "tomli; python_version < '3.11'",
        ],
    )
    assert unmet_of(tmp_path, {}) == ["uvloop (pyproject.toml): not installed"]
    py313 = {**LINUX_311, "python_version": "3.13", "python_full_version": "3.13.1"}
    assert "audioop-lts>=0.2 (pyproject.toml): not installed" in unmet_of(tmp_path, {}, py313)


def test_optional_groups_count_only_when_the_bot_enables_them(tmp_path: Path) -> None:
    optional = {"rag": ["chromadb>=0.4"], "voice": ["pynacl"], "all": ["acore-bot[rag,voice]"]}
    pyproject(tmp_path, ["aiohttp"], optional)
    dists = installed(("aiohttp", "3.10.0"))
    assert unmet_of(tmp_path, dists) == []
    # Enabled by the bot's own dependencies (a self-reference)...
    pyproject(tmp_path, ["aiohttp", "acore-bot[voice]"], optional)
    assert unmet_of(tmp_path, dists) == ["pynacl (pyproject.toml [voice]): not installed"]
    # ... or by its requirements file (-e .[all], which enables rag and voice in turn).
    pyproject(tmp_path, ["aiohttp"], optional)
    (tmp_path / "requirements.txt").write_text("-e .[all]\n")
    assert sorted(unmet_of(tmp_path, dists)) == [
        "chromadb>=0.4 (pyproject.toml [rag]): not installed",
        "pynacl (pyproject.toml [voice]): not installed",
    ]


def test_a_requirement_with_extras_needs_what_the_extra_adds(tmp_path: Path) -> None:
    pyproject(tmp_path, ["discord.py[voice]>=2.3"])
    discord = ("discord.py", "2.4.0", ("aiohttp<4,>=3.7.4", 'PyNaCl<1.6,>=1.3.0; extra == "voice"'))
    dists = installed(discord, ("aiohttp", "3.10.0"))
    assert unmet_of(tmp_path, dists) == [
        "discord.py[voice]>=2.3 (pyproject.toml): needs PyNaCl<1.6,>=1.3.0: not installed"
    ]
    assert unmet_of(tmp_path, {**dists, **installed(("PyNaCl", "1.5.0"))}) == []


def test_requirements_files_with_includes_comments_hashes_and_urls(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# the bot\n"
        "--index-url https://pypi.org/simple\n"
        "-r base.txt\n"
        "aiofiles==24.1.0 --hash=sha256:abc  # pinned\n"
        "pillow>=10 \\\n    ; python_version >= '3.8'\n"
        "git+https://github.com/x/voice-recv.git#egg=discord-ext-voice-recv\n"
        "this is not a requirement\n"
    )
    (tmp_path / "base.txt").write_text("psutil>=5.9\n")
    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    declared = read_declared(tmp_path)
    assert declared.requirements_files == ["requirements.txt", "base.txt"]
    assert declared.other_files == ["requirements-dev.txt"]
    unmet, unparsed = unmet_requirements(declared, installed(("aiofiles", "24.1.0")), LINUX_311)
    assert [str(u) for u in unmet] == [
        "psutil>=5.9 (base.txt:1): not installed",
        "pillow>=10 (requirements.txt:5): not installed",
        "discord-ext-voice-recv (requirements.txt:7): not installed",
    ]
    assert unparsed == ["requirements.txt:8: 'this is not a requirement'"]


def test_uv_lock_gives_the_requirements_when_there_is_no_project_table(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text(
        "version = 1\n"
        "[[package]]\n"
        'name = "acore-bot"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        "[package.metadata]\n"
        "requires-dist = [\n"
        '  { name = "aiohttp", specifier = ">=3.9" },\n'
        '  { name = "chromadb", marker = "extra == \'rag\'" },\n'
        '  { name = "pywin32", marker = "sys_platform == \'win32\'" },\n'
        "]\n"
        "[[package]]\n"
        'name = "aiohttp"\nversion = "3.10.0"\nsource = { registry = "https://pypi.org/simple" }\n'
    )
    declared = read_declared(tmp_path)
    assert declared.has_uv_lock and declared.anything
    assert unmet_of(tmp_path, {}) == ["aiohttp>=3.9 (uv.lock): not installed"]


def test_unreadable_declarations_are_facts_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = ")
    declared = read_declared(tmp_path)
    assert declared.problems and "not valid TOML" in declared.problems[0]
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "requirements.txt").mkdir()
    assert not read_declared(tmp_path).anything  # a directory is no requirements file


def test_the_install_command_fits_the_bot(tmp_path: Path) -> None:
    python = "/srv/bot/.venv/bin/python"
    pyproject(tmp_path, ["numpy"])
    declared = read_declared(tmp_path)
    unmet, _ = unmet_requirements(declared, {}, LINUX_311)
    assert install_command(declared, python, unmet) == f"{python} -m pip install -e ."
    (tmp_path / "uv.lock").write_text("version = 1\n")
    declared = read_declared(tmp_path)
    assert install_command(declared, python, unmet) == "uv sync"
    (tmp_path / "uv.lock").unlink()
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "requirements.txt").write_text("numpy\n")
    declared = read_declared(tmp_path)
    unmet, _ = unmet_requirements(declared, {}, LINUX_311)
    command = install_command(declared, python, unmet)
    assert command == f"{python} -m pip install -r requirements.txt"
    # Never a requirements file the bot lacks.
    pyproject(tmp_path, ["numpy"])
    (tmp_path / "requirements.txt").unlink()
    declared = read_declared(tmp_path)
    unmet, _ = unmet_requirements(declared, {}, LINUX_311)
    assert "requirements" not in install_command(declared, python, unmet)


def test_conflicts_are_what_pip_check_reports(tmp_path: Path) -> None:
    dists = installed(
        ("chromadb", "0.5.0", ("numpy>=1.22", "tokenizers<=0.20", 'pytest; extra == "test"')),
        ("numpy", "1.21.0"),
        ("onnx", "1.0", ("pywin32; sys_platform == 'win32'",)),
        ("acore-bot", "1.0", ("torch",)),
    )
    assert conflicts(dists, LINUX_311, own="acore_bot") == [
        "chromadb 0.5.0 requires numpy>=1.22: 1.21.0 installed",
        "chromadb 0.5.0 requires tokenizers<=0.20: not installed",
    ]
