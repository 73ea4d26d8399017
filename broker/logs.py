"""JSON log lines carrying the request id. Secrets never reach the log: only what we pass."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_request_id_getter = None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # Access lines carry their request id; other lines ask for the current request's.
        rid = getattr(record, "request_id", None) or (_request_id_getter() if _request_id_getter else None)
        if rid:
            line["request_id"] = rid
        for key in ("event", "status", "method", "path", "duration_ms", "upstream_ms", "upstream_calls", "account_id"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, request_id_getter) -> None:
    global _request_id_getter
    _request_id_getter = request_id_getter
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
