"""Writing a file all or nothing, and hashing a file's content: plumbing every layer needs.

It sits at the package root, beside `errors` and `settings`, so every layer may use it (it imports nothing of the
package): `write_atomic` lived in `optimize.rundir`, out of reach of the graph and router files below it, which were
written in place, so a kill mid-write left a truncated best_graph.yaml or router.yaml.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from rolegraph.errors import shown_arg

NEW_FILE_MODE = 0o666
"""What `open(path, "w")` asks for; the umask takes its bits away."""


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (`os.umask` can only read by setting,
    and a thread creating a file in that instant would get the wrong mode)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes, *, make_parents: bool = True) -> None:
    """Write `data` (text as UTF-8) to `path` via a temp file in the same directory renamed over it: a reader, or a
    kill at any instant, sees the old content or the new, never a truncated file.

    Otherwise it does what `open(path, "w")` would, so a caller that wrote in place can switch to it unnoticed: a
    new file gets 0o666 less the umask (not mkstemp's private 0o600: a run directory's files are shared like the
    store beside them), an existing one keeps its permission bits, a symlink is written through (its target is
    replaced, the link stays), and a FIFO or a device (`/dev/stdout`), which cannot be renamed over, is written in
    place. `make_parents`: create missing parent directories (else a missing one is the `FileNotFoundError` that
    `open` gives)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode: int | None = os.stat(path).st_mode  # through symlinks, as open() follows them
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "wb") as fh:
            fh.write(payload)
        return
    target = Path(os.path.realpath(path))
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else NEW_FILE_MODE & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: str | Path) -> str | None:
    """The sha256 of a file's bytes (of a directory: of its files' relative names and contents, in order); None
    when nothing is there. A run records its data and pool files by it, and a model's weights are named by it.

    Read by `hashlib.file_digest` (in chunks: a GGUF is hundreds of MB), every file of a directory into one digest."""
    path = Path(path).expanduser()
    digest = hashlib.sha256()
    files: list[tuple[str | None, Path]]
    if path.is_file():  # its content only: a copy elsewhere holds the same items
        files = [(None, path)]
    elif path.is_dir():
        files = sorted((str(f.relative_to(path)), f) for f in path.rglob("*") if f.is_file())
    else:
        return None
    for rel, f in files:
        if rel is not None:
            digest.update(rel.encode("utf-8") + b"\0")
        with f.open("rb") as fh:
            hashlib.file_digest(fh, lambda: digest)  # fed into the one digest, not a new one per file
    return digest.hexdigest()


def file_path(value: object, function: str, error: Callable[[str], Exception], argument: str = "path") -> Path:
    """`value` as an expanded `Path`, or `error(line)`, one line naming `function`'s `argument` and the type given:
    `Path(None)` fails with a bare TypeError naming neither, and from Python that was all a caller saw. A PathLike
    whose `__fspath__` gives bytes (which `Path` refuses) counts as the wrong type too. `error`: the class a bad
    file of that kind gets (a graph's `GraphError`, a roles file's `RoleError`), so every mistake takes one path."""
    if isinstance(value, str | os.PathLike):
        try:
            return Path(value).expanduser()
        except TypeError:
            pass
    given = "None" if value is None else f"{type(value).__name__} {shown_arg(value)}"
    raise error(f"{function}: {argument} must be a file path (str or pathlib.Path), got {given}")
