"""Fetch the pinned npm packages listed in assets.json, verify their sha512 integrity and extract the listed files.

Runs at install. Does nothing when var/assets already matches the manifest, so re-running is instant.
"""

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "assets.json"
TARGET = ROOT / "var" / "assets"
CACHE = ROOT / "var" / "npm-packs"
STAMP = TARGET / ".manifest-sha256"


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(package: dict) -> Path:
    tarball = CACHE / f"{package['name'].replace('/', '-').lstrip('@')}-{package['version']}.tgz"
    if not tarball.exists() or integrity_of(tarball) != package["integrity"]:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "pack",
                f"{package['name']}@{package['version']}",
                "--silent",
                "--pack-destination",
                str(CACHE),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    actual = integrity_of(tarball)
    if actual != package["integrity"]:
        tarball.unlink()
        sys.exit(f"{package['name']}@{package['version']}: integrity mismatch ({actual}); refusing to use it")
    return tarball


def extract(package: dict, tarball: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        for source, destination in package["files"].items():
            member = archive.extractfile(f"package/{source}")
            if member is None:
                sys.exit(f"{package['name']}: {source} is not in the package")
            out = TARGET / destination
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("wb") as handle:
                shutil.copyfileobj(member, handle)


def main() -> None:
    manifest_bytes = MANIFEST.read_bytes()
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    for package in json.loads(manifest_bytes)["packages"]:
        extract(package, fetch(package))
        print(f"assets: {package['name']}@{package['version']} verified and extracted")
    STAMP.write_text(digest)


if __name__ == "__main__":
    main()
