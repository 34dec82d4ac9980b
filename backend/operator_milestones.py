"""The milestones an operator is asked to judge, read from the index (the oracle's desk on the
page, `escrow-oracle inbox`): those of Active deals whose oracles include the operator, each
with the verdicts given since its terms last changed (an edited milestone's verdicts start
over, as the escrow counts them) and the documents uploaded so far (for it, or for its
deal as a whole).

Reads the pending milestones of Active deals (the work in progress, not the history) and
keeps those naming the operator: the oracles are a JSON list, which SQLite and PostgreSQL
search differently, and this set stays small next to every deal ever made."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import ChainEvent, DealRow, Evidence, MilestoneRow, VerdictRow
from backend.escrow.statuses import DealStatus, MilestoneStatus

VERDICT_EVENTS = ("MilestoneAttested", "MilestoneRejected")


@dataclass
class Named:
    """A milestone of an Active deal that names the operator."""

    deal: DealRow
    milestone: MilestoneRow
    verdicts: list[VerdictRow] = field(default_factory=list)  # since its terms last changed
    documents: list[Evidence] = field(default_factory=list)

    def verdict_of(self, operator_id: int) -> bool | None:
        """The operator's verdict (met or not), or None while it has given none."""
        mine = [v.met for v in self.verdicts if v.operator_id == operator_id]
        return mine[-1] if mine else None

    def awaits(self, operator_id: int) -> bool:
        return (
            self.milestone.status == MilestoneStatus.PENDING.label
            and self.verdict_of(operator_id) is None
        )


def named_milestones(db: Session, escrow: str, operator_id: int, pending_only: bool) -> list[Named]:
    """The milestones of the escrow's Active deals whose oracles include `operator_id`, newest
    deal first, each deal's in order; `pending_only` keeps the Pending ones."""
    query = (
        select(DealRow, MilestoneRow)
        .join(
            MilestoneRow,
            (MilestoneRow.escrow == DealRow.escrow) & (MilestoneRow.deal_id == DealRow.deal_id),
        )
        .where(DealRow.escrow == escrow, DealRow.status == DealStatus.ACTIVE.label)
        .order_by(DealRow.deal_id.desc(), MilestoneRow.index)
    )
    if pending_only:
        query = query.where(MilestoneRow.status == MilestoneStatus.PENDING.label)
    found = [Named(d, m) for d, m in db.execute(query).tuples() if operator_id in m.oracles]
    if not found:
        return found
    by_key: dict[tuple, Named] = {(n.deal.deal_id, n.milestone.index): n for n in found}
    deal_ids = {deal_id for deal_id, _ in by_key}
    for deal_id, index, verdict in _current_verdicts(db, escrow, deal_ids):
        if (deal_id, index) in by_key:
            by_key[(deal_id, index)].verdicts.append(verdict)
    documents = (
        select(Evidence)
        .where(Evidence.escrow == escrow, Evidence.deal_id.in_(deal_ids))
        .order_by(Evidence.created_at)
    )
    for doc in db.scalars(documents):  # the deal's own documents, and the milestone's
        for n in found if doc.milestone is None else [by_key.get((doc.deal_id, doc.milestone))]:
            if n is not None and n.deal.deal_id == doc.deal_id:
                n.documents.append(doc)
    return found


def _current_verdicts(db: Session, escrow: str, deal_ids: set[int]):
    """(deal id, index, verdict) of each verdict not voided by a later change to its
    milestone's terms, in chain order: the deals' history replayed."""
    events = db.scalars(
        select(ChainEvent)
        .where(
            ChainEvent.escrow == escrow,
            ChainEvent.deal_id.in_(deal_ids),
            ChainEvent.name.in_((*VERDICT_EVENTS, "MilestoneAmended")),
        )
        .order_by(ChainEvent.block, ChainEvent.log_index)
    )
    current: dict[tuple, list[VerdictRow]] = defaultdict(list)
    for e in events:
        key = (e.deal_id, e.args["index"])
        if e.name == "MilestoneAmended":
            current[key].clear()  # edited (or removed): its verdicts start over
            continue
        current[key].append(
            VerdictRow(
                escrow=escrow,
                deal_id=e.deal_id,
                index=e.args["index"],
                operator_id=e.args["operatorId"],
                signer=e.args["signer"],
                met=e.name == "MilestoneAttested",
                evidence_sha256=e.args["evidenceHash"].removeprefix("0x"),
                block=e.block,
                tx_hash=e.tx_hash,
            )
        )
    for (deal_id, index), verdicts in current.items():
        for verdict in verdicts:
            yield deal_id, index, verdict
