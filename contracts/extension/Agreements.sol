// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {EscrowBase} from "../EscrowBase.sol";

/// @title Agreements: what the parties agree to, and how they take it back
/// @dev Accepting a proposed deal, withdrawing a signed offer, revoking signed change orders
/// and cancellations, an assigned payee's consent to them, and the check that both signed
/// paths (ChangeOrders, Cancellation) run before they apply anything.
/// MAY CHANGE: a Proposed deal's status (to Accepted); a supplier's offer nonces (spent);
/// a party's agreement nonce for a deal (up by one); the payee consents, by digest.
/// Moves no tokens.
/// KEEPS: only the party that did not create a deal accepts it. A signed change order or
/// cancellation counts only from one of the two parties, for the deal's current version,
/// over the signer's current agreement nonce and until its deadline; an agreement nonce never
/// goes back, so a revoked signature stays dead. Only the current payee speaks for it.
abstract contract Agreements is IEscrowExtension, EscrowBase {
    /// @inheritdoc IEscrowExtension
    function acceptDeal(uint256 dealId) external {
        Deal storage deal = _deals[dealId];
        _requireStatus(deal, dealId, DealStatus.Proposed);
        // A Proposed deal was created by its buyer, so only the supplier is left to agree.
        if (msg.sender != deal.supplier) {
            if (msg.sender == deal.buyer) revert CreatorCannotAccept(dealId, msg.sender);
            revert NotDealParty(dealId, msg.sender);
        }
        deal.status = DealStatus.Accepted;
        emit DealAccepted(dealId, msg.sender);
    }

    /// @inheritdoc IEscrowExtension
    function cancelOffer(uint256 nonce) external {
        _useOfferNonce(msg.sender, nonce);
        emit OfferCancelled(msg.sender, nonce);
    }

    /// @inheritdoc IEscrowExtension
    function getPolicy(uint256 dealId) external view returns (Policy memory) {
        if (_deals[dealId].status == DealStatus.None) revert UnknownDeal(dealId);
        return _policies[dealId];
    }

    /// @inheritdoc IEscrowExtension
    function revokeAgreements(uint256 dealId) external {
        Deal storage deal = _deals[dealId];
        if (deal.status == DealStatus.None) revert UnknownDeal(dealId);
        // Only the two parties sign cancellations and change orders.
        if (msg.sender != deal.buyer && msg.sender != deal.supplier) {
            revert NotDealParty(dealId, msg.sender);
        }
        uint32 nonce = _agreementNonces[dealId][msg.sender] + 1;
        _agreementNonces[dealId][msg.sender] = nonce;
        emit AgreementsRevoked(dealId, msg.sender, nonce);
    }

    /// @inheritdoc IEscrowExtension
    function agreementNonce(uint256 dealId, address party) external view returns (uint32) {
        return _agreementNonces[dealId][party];
    }

    /// @inheritdoc IEscrowExtension
    function consentAsPayee(uint256 dealId, bytes32 digest, bool consented) external {
        Deal storage deal = _deals[dealId];
        if (deal.status == DealStatus.None) revert UnknownDeal(dealId);
        address payee = _payee(dealId, deal);
        // Only whoever holds the right to be paid speaks for it.
        if (msg.sender != payee) revert NotPayee(dealId, msg.sender);
        _payeeConsents[digest] = consented ? payee : address(0);
        emit PayeeConsentSet(dealId, payee, digest, consented);
    }

    /// @inheritdoc IEscrowExtension
    function payeeConsented(bytes32 digest) external view returns (address) {
        return _payeeConsents[digest];
    }

    /// @dev Both parties agree: the caller is one of them and the other signed `digest`, for
    /// the deal's current version and its own current agreement nonce, before `deadline`
    /// (inclusive).
    function _checkAgreed(
        uint256 dealId,
        Deal storage deal,
        address buyer,
        uint16 signedVersion,
        uint32 signedNonce,
        uint256 deadline,
        bytes32 digest,
        bytes calldata signature
    ) internal view {
        address supplier = deal.supplier;
        address other;
        if (msg.sender == buyer) other = supplier;
        else if (msg.sender == supplier) other = buyer;
        else revert NotDealParty(dealId, msg.sender);
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        // It agrees to the deal as it is now: after a change order it needs signing again.
        uint16 version = deal.version;
        if (signedVersion != version) revert StaleDealVersion(dealId, signedVersion, version);
        uint32 nonce = _agreementNonces[dealId][other];
        // The signer has not revoked it since.
        if (signedNonce != nonce) revert AgreementRevoked(dealId, other, signedNonce, nonce);
        if (!_isValidSignature(other, digest, signature)) revert InvalidCounterpartySignature(other);
    }

    /// @dev An assigned payee (other than the supplier) agreed to `digest` (consentAsPayee).
    function _requirePayeeConsent(uint256 dealId, Deal storage deal, address payee, bytes32 digest)
        internal
        view
    {
        if (deal.flags & FLAG_ASSIGNED == 0 || payee == deal.supplier) return;
        if (_payeeConsents[digest] != payee) revert PayeeConsentMissing(dealId, payee, digest);
    }
}
