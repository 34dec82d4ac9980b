// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title A second test stablecoin for local chains: 18 decimals (like DAI or EURe), permit.
/// @notice FOR LOCAL DEVELOPMENT ONLY: anyone can mint. Its escrow is the local chain's second
/// one (scripts/deploy.py), so that one service serves deals in two tokens of unlike decimals.
contract TestEuro is ERC20, ERC20Permit {
    constructor() ERC20("Test EUR", "tEUR") ERC20Permit("Test EUR") {}

    /// @notice Faucet: mint `amount` to `to`. Local testing only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
