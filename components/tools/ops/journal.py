"""A JSON-lines journal of every message a command moved, refused or purged.

One file per run: `.cloudqueue/journal/<stack>-<queue>-<cloud>-<UTC timestamp>.jsonl` under the
project folder. A line is written, flushed and fsync'ed as soon as the cloud has confirmed the
step it records, so a crash leaves the journal no further behind than the cloud. A redrive reads
the earlier journals of the same stack, queue and cloud: a message whose copy was confirmed sent
but whose original was never deleted is settled without a second send (resumable redrive).

The journal holds message bodies: what was moved or purged can be sent again by hand. Treat the
folder like the queue's own data (it is git-ignored with the rest of `.cloudqueue/`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

JOURNAL_DIR = Path(".cloudqueue") / "journal"


def body_fields(body: bytes) -> dict[str, str]:
    """The body as text when it is UTF-8, else base64, with its SHA-256."""
    fields = {"body_sha256": hashlib.sha256(body).hexdigest()}
    try:
        fields["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        fields["body_base64"] = base64.b64encode(body).decode("ascii")
    return fields


def _safe(part: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in part)


class Journal:
    """The journal of one run of one command on one queue and cloud."""

    def __init__(self, project_dir: Path, stack: str, queue: str, cloud: str, command: str):
        self.folder = project_dir / JOURNAL_DIR
        self.prefix = f"{_safe(stack)}-{_safe(queue)}-{cloud}-"
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        self.path = self.folder / f"{self.prefix}{stamp}.jsonl"
        self.stack, self.queue, self.cloud, self.command = stack, queue, cloud, command
        self._file: Optional[Any] = None

    def write(self, event: str, **fields: Any) -> None:
        """Append one event and force it to disk before the caller takes the next step."""
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "event": event, "command": self.command, "cloud": self.cloud, **fields}
        self._file.write(json.dumps(record, sort_keys=False, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    @property
    def written(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def earlier(self) -> list[Path]:
        """This stack's, queue's and cloud's journals from earlier runs, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob(f"{self.prefix}*.jsonl") if p != self.path)

    def pending(self) -> dict[str, dict[str, Any]]:
        """Messages an earlier run confirmed sent but never settled: key -> the `sent` record."""
        sent: dict[str, dict[str, Any]] = {}
        for path in self.earlier():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash: its step was not confirmed
                key = record.get("key")
                if record.get("event") == "sent" and key:
                    sent[key] = record
                elif record.get("event") == "settled" and key:
                    sent.pop(key, None)
        return sent
