// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title Test stablecoin for local chains: 6 decimals (like USDC), EIP-2612 permit.
/// @notice FOR LOCAL DEVELOPMENT ONLY: anyone can mint.
contract TestStablecoin is ERC20, ERC20Permit {
    constructor() ERC20("Test USD", "tUSD") ERC20Permit("Test USD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Faucet: mint `amount` to `to`. Local testing only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
