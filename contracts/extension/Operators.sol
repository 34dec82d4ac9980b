// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowExtension} from "../interfaces/IEscrowExtension.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {EscrowBase} from "../EscrowBase.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {TypedData} from "../libraries/TypedData.sol";

/// @title Operators: the registry of oracles and arbiters, under the escrow's EIP-712 domain
/// @dev OperatorRegistry holds the registry's functions; this gives it the one thing it needs
/// from the escrow: a key's consent, signed as EIP-712 `OperatorKey` in the escrow's domain.
/// MAY CHANGE (through OperatorRegistry): the operator count, operators' admins, profiles and
/// active-key counts, keys' records (bound once, revoked once). Moves no tokens.
/// KEEPS: a key binds to an operator only with its holder's consent (its own transaction, or
/// its signature until the deadline, inclusive), and to one operator for its whole life; only
/// an operator's admin manages it. Deals name operators by id, so keys rotate under them.
abstract contract Operators is IEscrowExtension, EscrowBase, OperatorRegistry {
    /// @inheritdoc IOperatorRegistry
    function hashKeyConsent(address admin, address key, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(TypedData.hashKeyConsent(admin, key, deadline));
    }

    /// @dev The holder of `key` agreed, by an EIP-712 `OperatorKey` signature (or its contract
    /// wallet's EIP-1271 approval), to serve operators administered by the caller.
    function _checkKeyConsent(address key, uint256 deadline, bytes calldata signature)
        internal
        view
        override
    {
        if (key == msg.sender) return; // its own holder is adding it
        if (!_isValidSignature(key, hashKeyConsent(msg.sender, key, deadline), signature)) {
            revert InvalidKeyConsent(key);
        }
        // A consent is good until its deadline, inclusive.
        if (block.timestamp > deadline) revert KeyConsentExpired(deadline);
    }
}
