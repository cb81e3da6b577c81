"""Services of `tutela attach`, `detach`, `attachments`: live databases and lake tables."""

from __future__ import annotations

from dataclasses import dataclass

from tutela import live
from tutela.keyguard import workspace_key
from tutela.lake_spark import spark_conf
from tutela.live import Attachment, AttachResult
from tutela.services.session import Session


@dataclass(frozen=True)
class AttachRequest:
    name: str
    target: str
    kind: str | None = None
    read_only: bool = False
    replace: bool = False
    warehouse: str | None = None
    spark_conf: tuple[str, ...] = ()


def attach(session: Session, request: AttachRequest) -> AttachResult:
    with session.open(create=True) as ws:
        return live.add(
            ws,
            workspace_key(ws),
            request.name,
            request.target,
            kind=request.kind,
            read_only=request.read_only,
            replace=request.replace,
            warehouse=request.warehouse,
            spark_conf=spark_conf(request.spark_conf),
        )


def detach(session: Session, name: str) -> None:
    with session.open() as ws:
        live.drop(ws, workspace_key(ws), name)


def attachments(session: Session) -> list[Attachment]:
    with session.open(read_only=True) as ws:
        return live.stored(ws.con)
