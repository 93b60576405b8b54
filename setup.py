"""The package layout the wheel needs beyond pyproject.toml.

The checks and guides keep their top-level folders in the repository (``health_tests/``,
``recovery_tests/``, ``guides/``: where operators and pytest.ini expect them) and are mapped
into the package, so an installed copy (``pip install .``, a wheel, pipx) carries them as
``acore_doctor/health_tests/`` ... (found by :func:`acore_doctor.suite.suite_root`).
pyproject.toml cannot add mapped folders to a ``find`` result, hence this file.
"""

from setuptools import find_packages, setup

#: package name inside the wheel -> folder in the repository
SUITE_FOLDERS = {
    "acore_doctor.health_tests": "health_tests",
    "acore_doctor.recovery_tests": "recovery_tests",
    "acore_doctor.guides": "guides",
}

setup(
    packages=[*find_packages(include=["acore_doctor", "acore_doctor.*"]), *SUITE_FOLDERS],
    package_dir=SUITE_FOLDERS,
    package_data={
        "acore_doctor": ["demo/deployment/**/*", "demo/deployment/.env", "demo/deployment/**/.*"],
        "acore_doctor.guides": ["*.md"],
    },
)
