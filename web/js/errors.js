// Errors in words a person can act on: what a wallet, ethers or the escrow threw, turned into
// a UserError with one clear sentence.
import { state } from "./state.js";

/** An error whose message is meant for the user as it is. */
export class UserError extends Error {}

// What each of the escrow's refusals means for the person who pressed the button.
const REASONS = {
  NotDealParty: "your account is not a party to this deal",
  NotBuyer: "only the deal's buyer can do this",
  NotPayee: "only the deal's payee can do this",
  NotArbiter: "only the deal's arbiter can rule",
  CreatorCannotAccept: "the party that proposed the deal cannot also accept it",
  WrongDealStatus: "the deal is no longer in the state this page showed (reload it)",
  WrongMilestoneStatus: "the milestone is no longer in the state this page showed (reload it)",
  MilestoneNotPending: "the milestone is no longer open",
  MilestoneNotDue: "the milestone is not past its due date yet",
  DeadlinePassed: "its deadline has passed",
  DeadlineNotPassed: "its deadline has not passed yet",
  DueDateNotInFuture: "a due date is not in the future",
  InvalidQuorum: "a quorum is larger than the number of oracles (or zero)",
  InvalidOracleList: "an oracle list has gaps, repeats or unknown operators",
  UnknownOperator: "an operator id is not registered",
  UnknownDeal: "there is no such deal",
  InvalidParties: "buyer and supplier must be two different, non-zero addresses",
  ZeroAmount: "a milestone amount is zero",
  TotalTooLarge: "the deal's total is too large",
  MilestoneCountOutOfRange: "too many (or no) milestones",
  InvalidPolicy: "the policy's periods or retention are out of range",
  InvalidChange: "one of the changes is not allowed (only open milestones can change)",
  InvalidCounterpartySignature: "the signature is not the other party's",
  StaleDealVersion: "the deal has changed since this was signed",
  TopUpShort: "the token delivered less than the top-up",
  SplitTooLarge: "the split is larger than what is held",
  ZeroFunding: "nothing to fund",
  HeldAmountChanged: "something was paid out of the deal since this was signed: sign a new one over what is held now",
  AgreementRevoked: "the signer revoked it on chain",
  PayeeConsentMissing: "the deal's payouts are assigned: the payee must agree to this first",
  InvalidRecipient: "that address cannot receive the tokens",
  VersionLimitReached: "the deal takes no more change orders",
  InvalidKeyConsent: "the key has not agreed to serve this operator",
  KeyConsentExpired: "the key's consent has expired",
  ERC20InsufficientBalance: "your token balance is too low",
  ERC20InsufficientAllowance: "the escrow's allowance is too low: approve first",
};

/** Turns what a wallet, ethers or the escrow threw into a UserError with a clear sentence. */
export function explain(error) {
  if (error instanceof UserError) return error;
  const code = error?.code ?? error?.info?.error?.code ?? error?.error?.code;
  if (code === 4001 || code === "ACTION_REJECTED" || error?.info?.error?.code === 4001) {
    return new UserError("You rejected the request in your wallet: nothing was signed or sent.");
  }
  if (code === 4100) return new UserError("The wallet has not authorised this page: connect again.");
  if (code === "INSUFFICIENT_FUNDS") {
    return new UserError("Your account has too little ether to pay for gas: nothing was sent.");
  }
  const data = revertData(error);
  if (data) {
    let parsed = null;
    try {
      parsed = state.iface.parseError(data);
    } catch {
      parsed = null;
    }
    if (parsed) {
      // Every error is documented, with what to do, in the repository's docs/errors.md.
      const why = REASONS[parsed.name] || `see docs/errors.md#${parsed.name} in the escrow's repository`;
      return new UserError(`The escrow refused (${parsed.name}): ${why}. Nothing was changed.`);
    }
  }
  if (code === "CALL_EXCEPTION") {
    const reason = error.reason || error.shortMessage || "reverted";
    return new UserError(`The transaction would fail (${reason}). Nothing was changed.`);
  }
  // a failed fetch is a TypeError without a code (ethers' own TypeErrors carry one)
  if (code === "NETWORK_ERROR" || code === "SERVER_ERROR" || (error instanceof TypeError && !code)) {
    return new UserError("The chain cannot be reached right now: nothing was sent. Try again.");
  }
  return new UserError(error?.shortMessage || error?.message || String(error));
}

function revertData(error) {
  for (const candidate of [error?.data, error?.info?.error?.data, error?.error?.data, error?.revert?.data]) {
    if (typeof candidate === "string" && candidate.startsWith("0x") && candidate.length >= 10) return candidate;
    if (typeof candidate?.data === "string") return candidate.data;
  }
  return null;
}
