"""JSON log lines carrying the request id. Secrets never reach the log: only what we pass."""
from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone

_request_id_getter = None
# Record attributes copied into the line when present (access lines and audit-style events).
_FIELDS = ("event", "status", "method", "path", "duration_ms", "upstream_ms", "upstream_calls", "account_id")


def json_line(created: float, level: str, logger: str, msg: str, request_id: str | None, fields: dict,
              exc: str | None = None) -> str:
    """One log line: ts, level, logger, msg, request_id, the ``_FIELDS`` present in ``fields``, exc."""
    line = {"ts": datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": level.lower(), "logger": logger, "msg": msg}
    if request_id:
        line["request_id"] = request_id
    for key in _FIELDS:
        if key in fields:
            line[key] = fields[key]
    if exc:
        line["exc"] = exc
    return json.dumps(line, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Access lines carry their request id; other lines ask for the current request's.
        rid = getattr(record, "request_id", None) or (_request_id_getter() if _request_id_getter else None)
        exc = self.formatException(record.exc_info) if record.exc_info else None
        return json_line(record.created, record.levelname, record.name, record.getMessage(), rid, record.__dict__, exc)


class AccessLog:
    """The line every request ends with, on ``logger`` at INFO.

    It goes through ``logging`` like every other line, except when it would reach nothing but the
    JSON handler ``configure_logging`` put on the root logger (the production set-up): then it is
    written to that handler's stream, under the handler's lock, exactly as ``JsonFormatter`` would
    write it, without building a LogRecord or looking up the caller (/healthz 0.127 -> 0.117 ms of
    CPU; README "Performance", fifth round). Any other handler, filter or level on the way (an
    operator's configuration, pytest's caplog) takes the ordinary path."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger

    def write(self, request_id: str, method: str, path: str, status: int, **fields) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields.update(request_id=request_id, method=method, path=path, status=status)
        handler = self._only_handler()
        if handler is None:
            self.logger.info("%s %s %s", method, path, status, extra=fields)
            return
        line = json_line(time.time(), "INFO", self.logger.name, f"{method} {path} {status}", request_id, fields)
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except Exception:   # as Handler.emit: a broken stream must not fail the request
            handler.handleError(logging.makeLogRecord({"msg": line, "name": self.logger.name}))
        finally:
            handler.release()

    def _only_handler(self) -> logging.StreamHandler | None:
        """The root's JSON StreamHandler when it is the only thing the line would meet, else None."""
        logger = self.logger
        while logger.parent is not None:
            if logger.handlers or logger.filters or not logger.propagate or logger.disabled:
                return None
            logger = logger.parent
        handlers = logger.handlers
        if len(handlers) != 1 or logger.filters or logger.disabled:
            return None
        handler = handlers[0]
        if (type(handler) is not logging.StreamHandler or type(handler.formatter) is not JsonFormatter
                or handler.filters or handler.level > logging.INFO):
            return None
        return handler


def configure_logging(level: str, request_id_getter) -> None:
    global _request_id_getter
    _request_id_getter = request_id_getter
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
