"""Whether the demo's trained models still fit its data and code, so a restart can skip training.

A fingerprint hashes what the models depend on: the bytes of the data files loaded (the shared
Online Retail files or the built-in sample), the source of the training code (recommenders,
evaluation protocol, training pipeline, the demo's loaders) and the settings that steer training
(``TRAINING_MODELS``, ``TRAINING_EVENT_WEIGHTS``, the replay's held-out days, the models the demo's
experiments name). It is kept in ``<VAR_DIR>/demo-training.json`` with the ids of the model versions
that training produced. A restart reuses them when the fingerprint is the same *and* those versions
are still in the database with their artifacts (a database emptied under an unchanged file trains
again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

import promotions
from promotions.conf import app_settings
from promotions.training.models import ModelVersion

STATE_FILE = "demo-training.json"
#: The code whose change calls for new models: every module under these folders.
CODE_FOLDERS = (
    Path(promotions.__file__).parent / "recommenders",
    Path(promotions.__file__).parent / "evaluation",
    Path(promotions.__file__).parent / "training",
    Path(__file__).parent / "catalog",
)
CHUNK = 1 << 20


def state_path() -> Path:
    return Path(settings.VAR_DIR) / STATE_FILE


def _hash_file(digest: hashlib._Hash, path: Path) -> None:
    digest.update(path.name.encode() + b"\0")
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)


def fingerprint(data_files: Iterable[Path], config: dict) -> str:
    """SHA-256 over the data files, the training code and the training configuration."""
    digest = hashlib.sha256()
    for path in data_files:
        _hash_file(digest, Path(path))
    for folder in CODE_FOLDERS:
        for path in sorted(folder.rglob("*.py")):
            _hash_file(digest, path)
    settings_used = {
        "TRAINING_MODELS": list(app_settings.TRAINING_MODELS),
        "TRAINING_EVENT_WEIGHTS": dict(app_settings.TRAINING_EVENT_WEIGHTS),
        **config,
    }
    digest.update(json.dumps(settings_used, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _usable(version_ids: list[int]) -> bool:
    servable = (*ModelVersion.ACTIVATABLE, ModelVersion.Status.ACTIVE)
    versions = list(ModelVersion.objects.filter(pk__in=version_ids, status__in=servable).exclude(artifact=""))
    if len(versions) != len(set(version_ids)) or not any(v.status == ModelVersion.Status.ACTIVE for v in versions):
        return False
    return all(version.artifact.storage.exists(version.artifact.name) for version in versions)


def models_current(print_: str) -> bool:
    """Whether the stored state has this fingerprint and its model versions can still serve."""
    try:
        state = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(state, dict) or state.get("fingerprint") != print_:
        return False
    ids = state.get("versions")
    return isinstance(ids, list) and bool(ids) and all(isinstance(i, int) for i in ids) and _usable(ids)


def remember(print_: str, version_ids: list[int]) -> None:
    """Keep the fingerprint with the versions trained for it (written whole, then renamed)."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".tmp")
    draft.write_text(json.dumps({"fingerprint": print_, "versions": sorted(set(version_ids))}), encoding="utf-8")
    draft.replace(path)
