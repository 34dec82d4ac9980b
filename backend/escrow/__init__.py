"""The escrow's vocabulary, in one place; everything else in Python is its client.

- struct.py: how a struct is declared once (`sol` fields) and written in each form
- structs.py: the structs themselves (IEscrowTypes), in Solidity's order
- statuses.py: the escrow's enums, and the service's strings for them
- eip712.py: domains, full messages, digests, signing, the escrow's signature checks
- messages.py: the messages the parties sign, in the escrow's (or the token's) domain
- abi.py: the ABI: views read by component name, custom errors named by selector
- http.py: the structs' HTTP (pydantic) models, derived from the declarations
- errors.py: what the routes raise (backend/errors.py answers each with its status)
- sender.py: the one transaction sender (relayer, escrow-oracle)
"""
