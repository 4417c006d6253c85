"""The path policy: which files the service may read (under SCAN_ROOTS) and write or delete (under
EXPORT_DIR). Every check resolves symlinks first, so a link that leads out of a root is outside it."""

from pathlib import Path

from django.conf import settings


def _resolved(path: Path | str) -> Path | None:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop, or a path the OS refuses
        return None


def is_within(path: Path | str, base: Path | str) -> bool:
    resolved, base = _resolved(path), _resolved(base)
    return resolved is not None and base is not None and resolved.is_relative_to(base)


def inside_scan_roots(path: Path | str) -> bool:
    return any(is_within(path, root) for root in settings.SCAN_ROOTS)


def inside_export_dir(path: Path | str) -> bool:
    return is_within(path, settings.EXPORT_DIR)


def export_relative(path: Path | str) -> str:
    """How an export file is named to clients: relative to EXPORT_DIR, never the server's absolute path."""
    resolved = _resolved(path)
    if resolved is None or not resolved.is_relative_to(settings.EXPORT_DIR):
        return Path(path).name
    return resolved.relative_to(settings.EXPORT_DIR).as_posix()
