"""What the service gives the web page: the page with its security headers, its config (chain,
escrow, the EIP-712 types that docs/typed-data.md documents) and the ethers bundle."""

import brownie

from backend import typed_data
from backend.terms import ChangeAction, DealStatus, MilestoneStatus


def test_the_page_is_served_with_a_content_security_policy(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/app/"
    r = client.get("/app/")
    assert r.status_code == 200 and '<script type="module" src="js/app.js">' in r.text
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    # the page may read the chain through the RPC it is given, and nothing else outside
    rpc = brownie.web3.provider.endpoint_uri.rstrip("/")
    assert f"connect-src 'self' {rpc}" in policy
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "javascript" in client.get("/app/js/app.js").headers["content-type"]
    assert client.get("/app/no-such-file.js").status_code == 404


def test_config_names_this_chain_escrow_and_the_typed_data_types(client, escrow):
    config = client.get("/app/config.json").json()
    assert config["chain_id"] == brownie.chain.id
    assert config["escrow"] == escrow.address
    assert config["rpc_url"] == brownie.web3.provider.endpoint_uri
    assert config["domain"] == {"name": "MilestoneEscrow", "version": "1"}
    assert config["types"]["Cancellation"] == {"Cancellation": typed_data.CANCELLATION_TYPE}
    assert config["types"]["Amendment"]["Amendment"] == typed_data.AMENDMENT_TYPE
    assert config["types"]["Permit"] == {"Permit": typed_data.PERMIT_TYPE}


def test_a_public_rpc_url_is_what_the_page_reads_through(make_client):
    client = make_client(public_rpc_url="https://rpc.example.org/v1")
    assert client.get("/app/config.json").json()["rpc_url"] == "https://rpc.example.org/v1"
    policy = client.get("/app/").headers["content-security-policy"]
    assert "connect-src 'self' https://rpc.example.org;" in policy


def test_the_abi_and_the_ethers_bundle_are_served(client):
    names = {item.get("name") for item in client.get("/app/abi.json").json()}
    assert {"createDeal", "fundWithPermit", "amend", "cancelByAgreement"} <= names
    r = client.get("/app/vendor/ethers.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "BrowserProvider" in r.text


def test_config_gives_the_deal_offer_types_the_escrow_hashes(client):
    types = client.get("/app/config.json").json()["types"]["DealOffer"]
    assert types == {
        "DealOffer": typed_data.DEAL_OFFER_TYPE,
        "Policy": typed_data.POLICY_TYPE,
        "Milestone": typed_data.MILESTONE_TYPE,
    }


def test_config_gives_the_escrows_statuses_change_actions_and_limits(client, escrow):
    config = client.get("/app/config.json").json()
    statuses = config["statuses"]
    assert statuses["deal"][DealStatus.ACTIVE] == "Active" and len(statuses["deal"]) == 5
    assert statuses["milestone"][MilestoneStatus.RETAINED] == "Retained"
    assert statuses["milestone"][MilestoneStatus.REMOVED] == "Removed"
    assert config["change_actions"][ChangeAction.REMOVE] == "remove"
    assert config["limits"] == {
        "max_milestones": escrow.MAX_MILESTONES(),
        "max_oracles": 3,
        "max_bps": 10_000,
        "max_amount": str(2**96 - 1),
        "max_uint32": 2**32 - 1,
        "default_ruling_period": escrow.DEFAULT_RULING_PERIOD(),
    }
    described = client.get("/openapi.json").json()["components"]["schemas"]["Limits"]
    assert set(described["properties"]) == set(config["limits"])


def test_config_is_503_when_the_chain_is_down(make_client):
    """Nothing listens on port 9: the chain id cannot be read. The page is told the chain is
    unavailable (503, as the OpenAPI document says), not an internal error."""
    client = make_client(rpc_url="http://127.0.0.1:9")
    r = client.get("/app/config.json")
    assert r.status_code == 503, r.text
    assert "unreachable" in r.json()["detail"]
