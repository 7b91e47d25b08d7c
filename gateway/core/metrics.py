"""Prometheus metrics (``GET /metrics``), all named ``gga_``.

Transfer metrics are counted in one place, ``TransferLog.emit``: every login, upload, download, submission and
delivery passes there once, after its row is committed. Levels that are read, not counted (open sessions, the
outbox backlog), are a collector built by the composition root over the live parts.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder, emptied before the processes start),
prometheus-client keeps the counters and histograms in files there and ``render`` adds up every process's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# the contract: every name prefixed gga_. prometheus-client's own process_*, python_* go; the process figures
# come back as gga_process_* (memory, CPU, open files: one process's, so not in multi-process mode)
for _default in (GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR):
    with contextlib.suppress(KeyError):
        REGISTRY.unregister(_default)
ProcessCollector(namespace="gga")

LOGINS = Counter("gga_logins_total", "Logins by protocol and result (ok, refused)", ["protocol", "result"])
UPLOADS = Counter("gga_uploads_total", "Uploads by protocol and result (ok, refused, incomplete)",
                  ["protocol", "result"])
DOWNLOADS = Counter("gga_downloads_total", "Downloads by protocol and result (ok, incomplete)", ["protocol", "result"])
BYTES_IN = Counter("gga_bytes_received_total", "Bytes of uploads kept, by protocol", ["protocol"])
BYTES_OUT = Counter("gga_bytes_sent_total", "Bytes of downloads sent, by protocol", ["protocol"])
SUBMISSIONS = Counter("gga_submissions_total", "Submissions decided, by application, environment, result and "
                      "first error code ('' when accepted)", ["application", "environment", "result", "error_code"])
ACRF_LATENCY = Histogram("gga_acrf_latency_seconds", "From a submission's GO received to its ACRF (processed)",
                         ["result"], buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400))
DELIVERIES = Counter("gga_deliveries_total", "Return files delivered to senders, by channel", ["protocol"])
BANS = Counter("gga_bans_total", "Remote addresses banned by the defender, by protocol", ["protocol"])
EVENTS = Counter("gga_transfer_events_total", "Every transfer-log event, by event, protocol and result",
                 ["event", "protocol", "result"])
HTTP_REQUESTS = Counter("gga_http_requests_total", "HTTP requests by method, route template and status",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("gga_http_request_duration_seconds", "HTTP request duration by method and route template",
                         ["method", "route"])
RETENTION_PURGED = Counter("gga_retention_purged_total", "Items removed by retention, by kind (returns, rejected, "
                           "cancelled, transfer_log, used_assertions, service_tokens, partial)", ["kind"])


def count_transfer(line: Mapping[str, Any]) -> None:
    """Count one transfer-log line (see ``TransferLog.add`` for its keys)."""
    event, result, protocol = line["event"], line["result"], line.get("protocol") or "-"
    EVENTS.labels(event, protocol, result).inc()
    size = line.get("size") or 0
    if event == "login":
        LOGINS.labels(protocol, result).inc()
    elif event == "upload":
        UPLOADS.labels(protocol, result).inc()
        if result == "ok":
            BYTES_IN.labels(protocol).inc(size)
    elif event == "download":
        DOWNLOADS.labels(protocol, result).inc()
        BYTES_OUT.labels(protocol).inc(size)
    elif event == "submission":
        SUBMISSIONS.labels(line.get("application") or "-", line.get("environment") or "-", result,
                           line.get("error_code") or "").inc()
        if line.get("latency_s") is not None:
            ACRF_LATENCY.labels(result).observe(float(line["latency_s"]))
    elif event == "delivery":
        DELIVERIES.labels(protocol).inc()
    elif event == "ban":
        BANS.labels(protocol).inc()


class Levels(Collector):
    """Gauges read at each scrape: open sessions by protocol, outbox events not yet published."""

    def __init__(self, sessions: Callable[[], Mapping[str, int]], backlog: Callable[[], int]):
        self.sessions, self.backlog = sessions, backlog

    def collect(self) -> Iterable[GaugeMetricFamily]:
        open_ = GaugeMetricFamily("gga_sessions_open", "SFTP/FTP sessions open on this instance, by protocol",
                                  labels=["protocol"])
        for protocol, n in sorted(self.sessions().items()):
            open_.add_metric([protocol], n)
        yield open_
        try:
            yield GaugeMetricFamily("gga_outbox_backlog", "Outbox events not yet published (whole database)",
                                    value=self.backlog())
        except Exception:  # the database is away: /readyz says so; the scrape still answers
            return

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # collected at each scrape, never at registration


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def render(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The Prometheus text of every metric: this process's, or every process's when multi-process."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if extra:
        levels = CollectorRegistry()
        for collector in extra:
            levels.register(collector)
        text += generate_latest(levels)
    return text, CONTENT_TYPE_LATEST
