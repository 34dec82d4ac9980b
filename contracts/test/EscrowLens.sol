// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IEscrow} from "../interfaces/IEscrow.sol";
import {IEscrowTypes} from "../interfaces/IEscrowTypes.sol";

/// @notice FOR TESTS ONLY: everything the stateful model (tests/contracts/model) compares after
/// a step, read in one eth_call instead of dozens.
contract EscrowLens {
    uint256 private constant DEAL_WORDS = 6;
    uint256 private constant MILESTONE_WORDS = 5;

    /// @notice The escrow's state as flat words, in this order:
    ///   dealCount;
    ///   per account: token balance, owed (deferred payouts);
    ///   per key: the operator it signs for (0: unknown or revoked);
    ///   per deal 1..dealCount: status, version, milestoneCount, total, unfunded, payee, then
    ///   per milestone: amount, dueAt, status, attestations, rejections.
    function read(IEscrow escrow, IERC20 token, address[] calldata accounts, address[] calldata keys)
        external
        view
        returns (uint256[] memory words)
    {
        uint256 deals = escrow.dealCount();
        IEscrowTypes.DealView[] memory views = new IEscrowTypes.DealView[](deals);
        uint256 size = 1 + 2 * accounts.length + keys.length;
        for (uint256 d; d < deals; ++d) {
            views[d] = escrow.getDeal(d + 1);
            size += DEAL_WORDS + MILESTONE_WORDS * views[d].milestoneCount;
        }
        words = new uint256[](size);
        uint256 w;
        words[w++] = deals;
        for (uint256 i; i < accounts.length; ++i) {
            words[w++] = token.balanceOf(accounts[i]);
            words[w++] = escrow.owed(accounts[i]);
        }
        for (uint256 i; i < keys.length; ++i) {
            words[w++] = escrow.operatorOf(keys[i]);
        }
        for (uint256 d; d < deals; ++d) {
            IEscrowTypes.DealView memory v = views[d];
            words[w++] = uint256(v.status);
            words[w++] = v.version;
            words[w++] = v.milestoneCount;
            words[w++] = v.total;
            words[w++] = v.unfunded;
            words[w++] = uint160(v.payee);
            for (uint256 i; i < v.milestoneCount; ++i) {
                IEscrowTypes.MilestoneView memory m = escrow.getMilestone(d + 1, i);
                words[w++] = m.amount;
                words[w++] = m.dueAt;
                words[w++] = uint256(m.status);
                words[w++] = m.attestations;
                words[w++] = m.rejections;
            }
        }
    }
}
