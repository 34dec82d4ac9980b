// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title Registry of trusted third parties (oracles and arbiters)
/// @notice An operator is an organisation (an inspection agency, a carrier, a customs broker, an
/// arbitration service) known by a small numeric id. Deals name operators by id, never by key, so
/// an operator can rotate or revoke its signing keys without touching any live deal.
/// @dev Key rules:
///  - a key (an EOA or an EIP-1271 contract) belongs to at most one operator, forever: once
///    revoked it can never be added again, to any operator, so an old signature can never come
///    back to life under a new identity;
///  - only the operator's admin adds or revokes keys and hands the admin role on, and only
///    with the key's consent: the key itself sends the transaction, or it signed an EIP-712
///    `OperatorKey(address admin,address key,uint256 deadline)` naming the admin (so nobody can
///    squat someone else's address as a key);
///  - revocation is immediate: from the next block a revoked key's attestations are refused.
interface IOperatorRegistry {
    /// @notice What the registry knows of one operator.
    struct OperatorView {
        address admin;
        uint32 activeKeys;
        string name;
        string metadataURI;
    }

    /// @notice A key's state. `operatorId == 0` means the key was never registered.
    struct KeyView {
        uint32 operatorId;
        bool revoked;
    }

    event OperatorRegistered(
        uint32 indexed operatorId, address indexed admin, string name, string metadataURI
    );
    event OperatorMetadataUpdated(uint32 indexed operatorId, string name, string metadataURI);
    event OperatorAdminTransferred(
        uint32 indexed operatorId, address indexed previousAdmin, address indexed newAdmin
    );
    event OperatorKeyAdded(uint32 indexed operatorId, address indexed key);
    event OperatorKeyRevoked(uint32 indexed operatorId, address indexed key);

    /// @notice No operator has this id (ids run from 1 to {operatorCount}). Check the id.
    error UnknownOperator(uint32 operatorId);
    /// @notice Only the operator's admin manages its keys and profile. Send from the admin.
    error NotOperatorAdmin(uint32 operatorId, address caller);
    /// @notice The zero address can never be a key (it is what signature recovery returns for
    /// garbage). Name a real key.
    error InvalidKey();
    /// @notice The key is, or was, registered (to this or another operator): a key serves one
    /// operator for its whole life. Use a fresh key.
    error KeyAlreadyRegistered(address key, uint32 operatorId);
    /// @notice The key is not a live key of this operator (never added, another's, or already
    /// revoked). Nothing to revoke.
    error KeyNotActive(uint32 operatorId, address key);
    /// @notice The admin role cannot go to the zero address. Name a real admin.
    error InvalidAdmin();
    /// @notice The key's consent is not a valid signature by `key` over
    /// {hashKeyConsent}(caller, key, deadline). Ask the key's holder to sign it.
    error InvalidKeyConsent(address key);
    /// @notice The key's consent expired at `deadline`. Ask for a fresh one.
    error KeyConsentExpired(uint256 deadline);

    /// @notice Register a new operator whose admin is the caller, with a first signing key.
    /// @param name Human-readable name ("Acme Inspection Ltd").
    /// @param metadataURI Where to find the operator's public profile (an ipfs:// or https:// URI).
    /// @param key The first signing key; may equal the caller.
    /// @param keyDeadline Until when the key's consent is good (ignored when key == caller).
    /// @param keySignature The key's consent: its signature over
    /// {hashKeyConsent}(caller, key, keyDeadline); empty when the key is the caller.
    /// @return operatorId The new operator's id (ids start at 1).
    function registerOperator(
        string calldata name,
        string calldata metadataURI,
        address key,
        uint256 keyDeadline,
        bytes calldata keySignature
    ) external returns (uint32 operatorId);

    /// @notice Add a signing key to an operator. Admin only, with the key's consent as in
    /// {registerOperator}.
    function addOperatorKey(
        uint32 operatorId,
        address key,
        uint256 keyDeadline,
        bytes calldata keySignature
    ) external;

    /// @notice Revoke a signing key for good. Admin only.
    function revokeOperatorKey(uint32 operatorId, address key) external;

    /// @notice Hand the admin role to another address. Admin only.
    function transferOperatorAdmin(uint32 operatorId, address newAdmin) external;

    /// @notice Update the operator's public name and metadata reference. Admin only.
    function updateOperatorMetadata(
        uint32 operatorId,
        string calldata name,
        string calldata metadataURI
    ) external;

    /// @notice Number of registered operators; ids run from 1 to this number.
    function operatorCount() external view returns (uint32);

    function getOperator(uint32 operatorId) external view returns (OperatorView memory);

    function getKey(address key) external view returns (KeyView memory);

    /// @notice The operator that `key` currently signs for, or 0 if none (unknown or revoked).
    function operatorOf(address key) external view returns (uint32);

    /// @notice The EIP-712 digest a key signs to consent to serve operators of `admin`
    /// (`OperatorKey(address admin,address key,uint256 deadline)`, docs/typed-data.md).
    function hashKeyConsent(address admin, address key, uint256 deadline)
        external
        view
        returns (bytes32);
}
