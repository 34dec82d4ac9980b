// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {LedgerToken} from "./HostileTokens.sol";

/// @notice FOR TESTS ONLY: a token whose transfers call back into a contract, as a malicious
/// token (or a token with ERC-777 style hooks) could. Once armed, every transfer and
/// transferFrom it performs first calls `target` with `payload`, then moves the tokens. The
/// call's outcome is recorded, never propagated: the transfer itself succeeds either way, so a
/// test sees whether the escrow let the call back in (`reentered`) or refused it (`refused`,
/// with the revert data of the last refusal in `lastRefusal`).
contract ReentrantToken is LedgerToken {
    address public target;
    bytes public payload;
    uint256 public reentered;
    uint256 public refused;
    bytes public lastRefusal;

    constructor() LedgerToken("Reentrant Token", "HOOK", 18) {}

    /// @notice Call `target_` with `payload_` on every later transfer (address 0: disarm).
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    /// @notice What the hook saw so far, in one call.
    function hookStats() external view returns (uint256, uint256, bytes memory) {
        return (reentered, refused, lastRefusal);
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _callBack();
        require(_move(msg.sender, msg.sender, to, amount), "transfer failed");
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _callBack();
        require(_move(msg.sender, from, to, amount), "transfer failed");
        return true;
    }

    /// @dev Before the balances move, as a hook that wants to exploit a stale balance would.
    function _callBack() private {
        address to = target;
        if (to == address(0)) return;
        (bool ok, bytes memory data) = to.call(payload);
        if (ok) {
            ++reentered;
        } else {
            ++refused;
            lastRefusal = data;
        }
    }
}
