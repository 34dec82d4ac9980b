"""Python tooling and service for the milestone escrow.

`terms` and `typed_data` are shared by the scripts, the tests and (later) the FastAPI service:
they hold the one Python definition of the deal terms and of every EIP-712 message.
"""
