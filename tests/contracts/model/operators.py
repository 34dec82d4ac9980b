"""Rules: operator keys. An operator's admin adds keys and revokes them; a key rotation adds
a fresh key and revokes the old one in the middle of deals: from the next block the revoked
key's verdicts and rulings are refused (NotMilestoneOracle, NotArbiter) and the new key's
count."""

from __future__ import annotations

from .abi import error
from .base import KeyRecord, ModelBase
from .deploy import OPERATORS
from .engine import Ints, choice, rule

OPERATOR = Ints(1, len(OPERATORS))


class OperatorRules(ModelBase):
    def _admin(self, operator: int, who: int) -> str:
        """The operator's admin, or (who 0) another operator's admin, who may not."""
        if who == 0:
            return self.admins[operator % len(OPERATORS) + 1]
        return self.admins[operator]

    def _add_key(self, sender: str, operator: int, key) -> None:
        record = self.keys.get(key.address)
        failure = None  # OperatorRegistry.addOperatorKey
        if sender != self.admins[operator]:
            failure = error("NotOperatorAdmin", operator, sender)
        elif record is not None:  # a key serves one operator for life, revoked or not
            failure = error("KeyAlreadyRegistered", key.address, record.operator)
        # The key consents (signed, valid for a day): only its holder binds it.
        call = self.escrow.add_operator_key(sender, operator, key, self.next_ts + 86_400)
        if self.expect(call, failure):
            self.keys[key.address] = KeyRecord(operator)

    def _revoke_key(self, sender: str, operator: int, key: str) -> None:
        record = self.keys.get(key)
        failure = None  # OperatorRegistry.revokeOperatorKey
        if sender != self.admins[operator]:
            failure = error("NotOperatorAdmin", operator, sender)
        elif record is None or record.operator != operator or record.revoked:
            failure = error("KeyNotActive", operator, key)
        if self.expect(self.escrow.revoke_operator_key(sender, operator, key), failure):
            record.revoked = True

    @rule(operator=OPERATOR, key=choice(10), who=choice(6))
    def add_key(self, operator, key, who):
        """An admin adds a key (a spare one, or one already registered: refused)."""
        self._add_key(self._admin(operator, who), operator, self.p.keys[key])

    @rule(operator=OPERATOR, key=choice(10), who=choice(6))
    def revoke_key(self, operator, key, who):
        """An admin revokes a key (its own live one, or another: refused)."""
        self._revoke_key(self._admin(operator, who), operator, self.p.keys[key].address)

    @rule(operator=OPERATOR)
    def rotate_key(self, operator):
        """The admin adds a fresh key, then revokes the operator's oldest live key."""
        fresh = [k for k in self.p.spare if k.address not in self.keys]
        if not fresh:
            return
        admin = self.admins[operator]
        old = self.live_keys(operator)
        self._add_key(admin, operator, fresh[0])
        if old:
            self._revoke_key(admin, operator, old[0])
