"""MkDocs hook: publish the repository's CHANGELOG.md and benchmarks/RESULTS.md as site pages.

Both files live outside docs/ so that they are found where people look for them in the
repository; the site gets them as generated pages (changelog.md, benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"changelog.md": ROOT / "CHANGELOG.md", "benchmarks.md": ROOT / "benchmarks" / "RESULTS.md"}


def on_files(files: Files, config) -> Files:
    for uri, path in PAGES.items():
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
