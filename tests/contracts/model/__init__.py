"""A model-based test of the escrow: random sequences of the whole deal lifecycle on a chain
driven directly over JSON-RPC (anvil), checked step by step against a Python model.

  rpc, abi, chain   the transport: one keep-alive connection, calldata and errors by ABI,
                    send-or-simulate with exact timestamps
  escrow, deploy    the contract adapter (one method per call) and the deployment per token
  state, base       what the model believes, the shared checks and the invariants
  deals, verdicts, disputes, agreements, payouts, operators, clock
                    the rules, by concept
  engine            random programs and the shrinker
  machine           all of it on one machine

tests/contracts/test_stateful.py runs it.
"""
