// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Tokens that break ERC-20 expectations, for the escrow's hostile-token test suite.
/// @notice FOR TESTS ONLY. They share one minimal ledger and differ in how transfers behave.
abstract contract LedgerToken {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function _approve(address owner, address spender, uint256 amount) internal {
        allowance[owner][spender] = amount;
        emit Approval(owner, spender, amount);
    }

    /// @dev Moves `amount` from `from` and delivers `amount - fee`; returns false instead of
    /// reverting when the balance or allowance is short.
    function _move(address spender, address from, address to, uint256 amount)
        internal
        returns (bool)
    {
        if (spender != from) {
            uint256 allowed = allowance[from][spender];
            if (allowed < amount) return false;
            if (allowed != type(uint256).max) allowance[from][spender] = allowed - amount;
        }
        if (balanceOf[from] < amount) return false;
        uint256 fee = _fee(amount);
        balanceOf[from] -= amount;
        balanceOf[to] += amount - fee;
        totalSupply -= fee;
        emit Transfer(from, to, amount - fee);
        return true;
    }

    function _fee(uint256) internal view virtual returns (uint256) {
        return 0;
    }
}

/// @notice Takes a 1% fee on every transfer (burnt), like PAXG or STA; reverts on failure.
contract FeeOnTransferToken is LedgerToken {
    constructor() LedgerToken("Fee Token", "FEE", 18) {}

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(_move(msg.sender, msg.sender, to, amount), "transfer failed");
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        require(_move(msg.sender, from, to, amount), "transfer failed");
        return true;
    }

    function _fee(uint256 amount) internal pure override returns (uint256) {
        return amount / 100;
    }
}

/// @notice Returns nothing from transfer, transferFrom and approve, like USDT on mainnet;
/// reverts on failure.
contract NoReturnToken is LedgerToken {
    constructor() LedgerToken("No Return Token", "NORET", 6) {}

    function approve(address spender, uint256 amount) external {
        _approve(msg.sender, spender, amount);
    }

    function transfer(address to, uint256 amount) external {
        require(_move(msg.sender, msg.sender, to, amount), "transfer failed");
    }

    function transferFrom(address from, address to, uint256 amount) external {
        require(_move(msg.sender, from, to, amount), "transfer failed");
    }
}

/// @notice Returns false instead of reverting when a transfer cannot happen, like ZRX or BAT.
contract FalseReturnToken is LedgerToken {
    constructor() LedgerToken("False Return Token", "FALSE", 18) {}

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        return _move(msg.sender, msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        return _move(msg.sender, from, to, amount);
    }
}

/// @notice FOR TESTS ONLY: a 6-decimal stablecoin with a denylist, as USDC and USDT keep one:
/// any transfer from or to a listed address reverts. Anyone may list here (tests only).
contract BlocklistToken is LedgerToken {
    mapping(address => bool) public isBlacklisted;

    constructor() LedgerToken("Blocklist USD", "bUSD", 6) {}

    function blacklist(address account) external {
        isBlacklisted[account] = true;
    }

    function unBlacklist(address account) external {
        isBlacklisted[account] = false;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _check(msg.sender, to);
        require(_move(msg.sender, msg.sender, to, amount), "ERC20: transfer failed");
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _check(from, to);
        require(_move(msg.sender, from, to, amount), "ERC20: transfer failed");
        return true;
    }

    function _check(address from, address to) private view {
        require(!isBlacklisted[from] && !isBlacklisted[to], "Blacklistable: account is blacklisted");
    }
}

/// @notice Takes a fixed 1-wei fee on every transfer (like a token whose shares round down
/// on each move): asking for exactly what is owed never delivers all of it.
contract FixedFeeToken is LedgerToken {
    constructor() LedgerToken("Fixed Fee Token", "FIX", 6) {}

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(_move(msg.sender, msg.sender, to, amount), "transfer failed");
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        require(_move(msg.sender, from, to, amount), "transfer failed");
        return true;
    }

    function _fee(uint256 amount) internal pure override returns (uint256) {
        return amount == 0 ? 0 : 1;
    }
}
