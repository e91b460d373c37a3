"""What a package index and a packager check of a built wheel, run by tests/run.sh:

    python check_wheel.py WHEEL

- the tags: abi3 for CPython 3.9 on, and a ``manylinux`` platform (an index refuses
  ``linux_*``);
- ``auditwheel show`` finds the wheel consistent with that same platform tag;
- the licence: METADATA carries the SPDX expression and names both licence files, which
  are in ``.dist-info/licenses/`` (and no ``License ::`` classifier, which PyPI refuses
  beside an expression); the project URLs are there;
- the extension is stripped: no ``.debug_*`` section and no symbol table.

Exits non-zero with one line per failed check.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from elftools.elf.elffile import ELFFile

LICENSE_FILES = ("LICENSE-MIT", "LICENSE-APACHE")
LICENSE_EXPRESSION = "MIT OR Apache-2.0"
EXTENSION = "consent_ledger/_native.abi3.so"


def wheel_tags(wheel: Path) -> tuple[str, str, str]:
    """(python, abi, platform) tags of a wheel, from its file name."""
    name, _version, python, abi, platform = wheel.stem.split("-")
    assert name == "consent_ledger", wheel.name
    return python, abi, platform


def auditwheel_tag(wheel: Path) -> str:
    """The platform tag ``auditwheel show`` finds the wheel consistent with."""
    auditwheel = Path(sys.executable).parent / "auditwheel"
    run = subprocess.run([auditwheel, "show", wheel], capture_output=True, text=True)
    print(run.stdout.strip())
    text = " ".join(run.stdout.split())
    if run.returncode != 0:
        sys.exit(f"check_wheel: auditwheel show failed ({run.returncode}): {run.stderr}")
    found = re.search(r'consistent with the following platform tag: "([^"]+)"', text)
    if found is None:
        sys.exit(f"check_wheel: no platform tag in auditwheel's answer: {text}")
    return found.group(1)


def elf_sections(data: bytes) -> list[str]:
    return [section.name for section in ELFFile(io.BytesIO(data)).iter_sections()]


def main() -> None:
    wheel = Path(sys.argv[1])
    failures: list[str] = []
    python, abi, platform = wheel_tags(wheel)
    if (python, abi) != ("cp39", "abi3"):
        failures.append(f"tags {python}-{abi}, not cp39-abi3")
    platforms = platform.split(".")  # manylinux2014_x86_64.manylinux_2_17_x86_64
    if not all(p.startswith("manylinux") for p in platforms):
        failures.append(f"platform tag {platform}: a package index wants manylinux only")
    audited = auditwheel_tag(wheel)
    if audited not in platforms:
        failures.append(f"auditwheel: consistent with {audited}, the wheel says {platform}")

    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        dist_info = next(n.split("/")[0] for n in names if ".dist-info/" in n)
        metadata = Parser().parsestr(z.read(f"{dist_info}/METADATA").decode())
        extension = z.read(EXTENSION)

    for license_file in LICENSE_FILES:
        if f"{dist_info}/licenses/{license_file}" not in names:
            failures.append(f"{license_file} not in {dist_info}/licenses/")
        if license_file not in metadata.get_all("License-File", []):
            failures.append(f"METADATA names no License-File {license_file}")
    if metadata["License-Expression"] != LICENSE_EXPRESSION:
        failures.append(f"License-Expression {metadata['License-Expression']!r}")
    for classifier in metadata.get_all("Classifier", []):
        if classifier.startswith("License ::"):
            failures.append(f"{classifier!r}: PyPI refuses it beside License-Expression")
    urls = metadata.get_all("Project-URL", [])
    if not urls or any("example." in url for url in urls):
        failures.append(f"project URLs {urls}")

    sections = elf_sections(extension)
    unstripped = [s for s in sections if s.startswith(".debug") or s == ".symtab"]
    if unstripped:
        failures.append(f"{EXTENSION} is not stripped: {', '.join(unstripped)}")

    for failure in failures:
        print(f"check_wheel: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    size = wheel.stat().st_size
    print(
        f"check_wheel: {wheel.name} ({size / 1e6:.1f} MB, extension {len(extension) / 1e6:.1f} MB):"
        f" {platform}, auditwheel agrees, licence files in {dist_info}/licenses/, stripped"
    )


if __name__ == "__main__":
    main()
