// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title A contract key that turns hostile: it signs by EIP-1271 for its owner until told to
/// burn, then spends every bit of gas it is given in isValidSignature.
/// @notice FOR TESTS ONLY: shows that a relayer's batch pays a bounded amount for such a key.
contract GasBurningWallet is IERC1271 {
    address public immutable owner;
    bool public burning;

    constructor(address owner_) {
        owner = owner_;
    }

    function setBurning(bool on) external {
        burning = on;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        if (burning) {
            uint256 x;
            while (gasleft() > 0) {
                x = uint256(keccak256(abi.encode(x)));
            }
        }
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) {
            return IERC1271.isValidSignature.selector;
        }
        return 0xffffffff;
    }
}
