"""axe-core, Deque's accessibility engine, from the npm registry: one pinned release, its integrity checked, kept in a
cache directory and injected into the page under test (docs/dependencies.md, "axe-core").

The tarball is fetched once with `npm pack` (the ordinary npm client, the registry npm is configured with), by
`.ci/run` before the tests or by the first test that needs it, into AXE_CORE_CACHE_DIR (default
~/.cache/backfill-portal). Every use checks the file's SHA-512 against the `integrity` the registry's metadata
gives for that release (pinned below): a tarball that does not match is refused, never run. The script is read from
that file and evaluated in the page by Playwright: the page under test never loads anything from outside.

    python -m tests.axe        # fetch into the cache (what .ci/run does); prints the path

Without npm or the registry the accessibility tests are skipped, and fail with CI=true (tests/needs.py).
"""

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

AXE_CORE_VERSION = "4.12.1"
# `npm view axe-core@4.12.1 dist.integrity`: the registry's SHA-512 of the tarball. A new release: both lines.
AXE_CORE_INTEGRITY = (
    "sha512-s7iGf5GaVMxEG0ENN9x+xTr7GFZCb1ZP/1uATUpCEK2X78nDB3RwbtFCo9pGAf9ru+VwoQ464DkaLEeRM08wJA=="
)
TARBALL_NAME = f"axe-core-{AXE_CORE_VERSION}.tgz"
SCRIPT_IN_TARBALL = "package/axe.min.js"
NPM_TIMEOUT = 120  # seconds `npm pack` gets


class AxeCoreUnavailable(Exception):
    """The pinned axe-core could not be had, or what was had is not it."""


def cache_dir() -> Path:
    configured = os.environ.get("AXE_CORE_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backfill-portal"


def integrity_of(data: bytes) -> str:
    """The npm `integrity` string (Subresource Integrity, SHA-512) of `data`."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch_tarball(directory: Path) -> Path:
    """`npm pack axe-core@VERSION` into `directory` (written next to it, then renamed: two test processes fetching
    at once never see half a file)."""
    npm = shutil.which("npm")
    if npm is None:
        raise AxeCoreUnavailable(
            "npm is not installed (apt-get install npm): it fetches axe-core from the registry"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".axe-core-") as scratch:
        try:
            finished = subprocess.run(
                [npm, "pack", f"axe-core@{AXE_CORE_VERSION}", "--pack-destination", scratch, "--silent"],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                cwd=scratch,
            )
        except subprocess.TimeoutExpired as timeout:
            raise AxeCoreUnavailable(
                f"npm pack axe-core@{AXE_CORE_VERSION} took over {NPM_TIMEOUT}s"
            ) from timeout
        fetched = Path(scratch) / TARBALL_NAME
        if finished.returncode != 0 or not fetched.exists():
            raise AxeCoreUnavailable(
                f"npm pack axe-core@{AXE_CORE_VERSION} failed (exit {finished.returncode}):\n"
                f"{finished.stderr.strip()[-2000:]}"
            )
        verified(fetched.read_bytes(), source=f"npm pack axe-core@{AXE_CORE_VERSION}")
        target = directory / TARBALL_NAME
        os.replace(fetched, target)
    return target


def verified(data: bytes, *, source) -> bytes:
    found = integrity_of(data)
    if found != AXE_CORE_INTEGRITY:
        raise AxeCoreUnavailable(
            f"{source} is not axe-core {AXE_CORE_VERSION} as the registry published it: "
            f"integrity {found}, expected {AXE_CORE_INTEGRITY}"
        )
    return data


def tarball() -> Path:
    """The cached tarball, fetched first if absent."""
    cached = cache_dir() / TARBALL_NAME
    if cached.exists():
        return cached
    return fetch_tarball(cache_dir())


def axe_script() -> str:
    """axe.min.js of the pinned release, from the cached tarball once its integrity is checked."""
    path = tarball()
    data = verified(path.read_bytes(), source=str(path))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile(SCRIPT_IN_TARBALL)
        if member is None:
            raise AxeCoreUnavailable(f"{path} has no {SCRIPT_IN_TARBALL}")
        script = member.read().decode("utf-8")
    if not script.startswith(f"/*! axe v{AXE_CORE_VERSION}"):
        raise AxeCoreUnavailable(f"{path}: {SCRIPT_IN_TARBALL} does not announce axe v{AXE_CORE_VERSION}")
    return script


class Axe:
    """The `axe` fixture (tests/conftest.py): `axe.violations(page)`."""

    def __init__(self, script: str):
        self.script = script

    def violations(self, page) -> list[dict]:
        """What axe-core finds in the page as it is now: each violation with its id, impact and nodes."""
        # Defines window.axe in the page. Evaluated by Playwright (not a <script> the page loads), so the page's
        # Content-Security-Policy does not stand in the way and the page loads nothing it would not load anyway.
        page.evaluate(self.script)
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        return results["violations"]


if __name__ == "__main__":
    try:
        path = tarball()
        axe_script()
    except AxeCoreUnavailable as problem:
        sys.exit(f"axe-core: {problem}")
    print(f"axe-core {AXE_CORE_VERSION}: {path} (integrity checked)")
