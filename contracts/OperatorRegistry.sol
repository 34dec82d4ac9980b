// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";

/// @title The operator registry's storage, part of every escrow's storage
/// @dev In the escrow's own storage rather than a separate contract: checking an attester's key
/// is then one storage read instead of an external call, which keeps the attestation that
/// releases a milestone within 1.6x the gas of a plain token transfer. The escrow reads it
/// (`_operatorOf`); the registry's functions live in the escrow's extension.
abstract contract OperatorStorage {
    /// @dev Layout: one slot (admin 20 bytes + activeKeys 4 bytes); strings live elsewhere.
    struct Operator {
        address admin;
        uint32 activeKeys;
        string name;
        string metadataURI;
    }

    /// @dev Layout: one slot (operatorId 4 bytes + revoked 1 byte).
    struct KeyRecord {
        uint32 operatorId;
        bool revoked;
    }

    /// @dev One slot for two counters: creating a deal checks its oracles against the operator
    /// count and bumps the deal count (EscrowBase's), so both cost one cold storage read. 2^64
    /// deals is beyond any chain's reach.
    uint32 internal _operatorCountValue;
    uint64 internal _dealCount;
    mapping(uint32 operatorId => Operator) internal _operators;
    mapping(address key => KeyRecord) internal _keys;

    /// @dev The operator a live key speaks for; 0 for an unknown or revoked key.
    function _operatorOf(address key) internal view returns (uint32) {
        KeyRecord memory rec = _keys[key];
        return rec.revoked ? 0 : rec.operatorId;
    }

    function _operatorExists(uint32 operatorId) internal view returns (bool) {
        return operatorId != 0 && operatorId <= _operatorCountValue;
    }

    function _operatorCount() internal view returns (uint32) {
        return _operatorCountValue;
    }
}

/// @title Operator registry (oracles and arbiters): operators register, and their admins
/// manage their keys; deals name operators by id, so a key can rotate under live deals.
abstract contract OperatorRegistry is IOperatorRegistry, OperatorStorage {
    /// @inheritdoc IOperatorRegistry
    function registerOperator(
        string calldata name,
        string calldata metadataURI,
        address key,
        uint256 keyDeadline,
        bytes calldata keySignature
    ) external returns (uint32 operatorId) {
        operatorId = ++_operatorCountValue;
        Operator storage op = _operators[operatorId];
        op.admin = msg.sender;
        op.name = name;
        op.metadataURI = metadataURI;
        emit OperatorRegistered(operatorId, msg.sender, name, metadataURI);
        _addKey(operatorId, key, keyDeadline, keySignature);
    }

    /// @inheritdoc IOperatorRegistry
    function addOperatorKey(
        uint32 operatorId,
        address key,
        uint256 keyDeadline,
        bytes calldata keySignature
    ) external {
        _checkAdmin(operatorId);
        _addKey(operatorId, key, keyDeadline, keySignature);
    }

    /// @inheritdoc IOperatorRegistry
    function revokeOperatorKey(uint32 operatorId, address key) external {
        _checkAdmin(operatorId);
        KeyRecord storage rec = _keys[key];
        // Only a live key of this very operator can be revoked.
        if (rec.operatorId != operatorId || rec.revoked) revert KeyNotActive(operatorId, key);
        rec.revoked = true;
        // Cannot underflow: the key was counted when it was added and is live until now.
        unchecked {
            --_operators[operatorId].activeKeys;
        }
        emit OperatorKeyRevoked(operatorId, key);
    }

    /// @inheritdoc IOperatorRegistry
    function transferOperatorAdmin(uint32 operatorId, address newAdmin) external {
        _checkAdmin(operatorId);
        if (newAdmin == address(0)) revert InvalidAdmin();
        _operators[operatorId].admin = newAdmin;
        emit OperatorAdminTransferred(operatorId, msg.sender, newAdmin);
    }

    /// @inheritdoc IOperatorRegistry
    function updateOperatorMetadata(
        uint32 operatorId,
        string calldata name,
        string calldata metadataURI
    ) external {
        _checkAdmin(operatorId);
        Operator storage op = _operators[operatorId];
        op.name = name;
        op.metadataURI = metadataURI;
        emit OperatorMetadataUpdated(operatorId, name, metadataURI);
    }

    /// @inheritdoc IOperatorRegistry
    function operatorCount() external view returns (uint32) {
        return _operatorCountValue;
    }

    /// @inheritdoc IOperatorRegistry
    function getOperator(uint32 operatorId) external view returns (OperatorView memory) {
        if (!_operatorExists(operatorId)) revert UnknownOperator(operatorId);
        Operator storage op = _operators[operatorId];
        return OperatorView(op.admin, op.activeKeys, op.name, op.metadataURI);
    }

    /// @inheritdoc IOperatorRegistry
    function getKey(address key) external view returns (KeyView memory) {
        KeyRecord memory rec = _keys[key];
        return KeyView(rec.operatorId, rec.revoked);
    }

    /// @inheritdoc IOperatorRegistry
    function operatorOf(address key) external view returns (uint32) {
        return _operatorOf(key);
    }

    function _addKey(uint32 operatorId, address key, uint256 deadline, bytes calldata signature)
        private
    {
        // The zero address is what ecrecover returns for garbage; it can never be a key.
        if (key == address(0)) revert InvalidKey();
        // Nobody binds someone else's address: the key's holder agreed.
        _checkKeyConsent(key, deadline, signature);
        KeyRecord storage rec = _keys[key];
        // A key serves one operator for its whole life, revoked or not.
        if (rec.operatorId != 0) revert KeyAlreadyRegistered(key, rec.operatorId);
        rec.operatorId = operatorId;
        ++_operators[operatorId].activeKeys;
        emit OperatorKeyAdded(operatorId, key);
    }

    /// @dev Only the holder of a key binds it to an operator: the key is the caller, or it
    /// signed its consent to serve operators administered by the caller (reverts otherwise).
    function _checkKeyConsent(address key, uint256 deadline, bytes calldata signature)
        internal
        view
        virtual;

    function _checkAdmin(uint32 operatorId) private view {
        if (!_operatorExists(operatorId)) revert UnknownOperator(operatorId);
        // Only the operator's own admin manages its keys and profile.
        if (_operators[operatorId].admin != msg.sender) {
            revert NotOperatorAdmin(operatorId, msg.sender);
        }
    }
}
