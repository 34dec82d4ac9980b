"""The escrow's two halves share one storage: MilestoneEscrow runs EscrowExtension's code by
delegatecall, so both must lay out their state variables slot for slot the same. Checked on
the compiler's own storage layouts (the same solc the build uses)."""

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLC = ROOT / "tools" / "solc" / "solc"
HALVES = ("MilestoneEscrow", "EscrowExtension")


def _layouts() -> dict[str, tuple[list, dict]]:
    sources = {f"contracts/{name}.sol": {"urls": [f"contracts/{name}.sol"]} for name in HALVES}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": ["@openzeppelin=node_modules/@openzeppelin"],
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["storageLayout"]}},
        },
    }
    out = subprocess.run(
        [str(SOLC), "--standard-json", "--base-path", ".", "--allow-paths", "."],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    result = json.loads(out.stdout)
    errors = [e for e in result.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    layouts = {}
    for name in HALVES:
        storage = result["contracts"][f"contracts/{name}.sol"][name]["storageLayout"]
        # Variables (name, slot, offset, type id) and every type's layout, struct members
        # included; compiled together, both halves name the same types by the same ids.
        variables = [(v["label"], v["slot"], v["offset"], v["type"]) for v in storage["storage"]]
        types = {
            type_id: {
                **t,
                "members": [
                    (m["label"], m["slot"], m["offset"], m["type"]) for m in t.get("members", [])
                ],
            }
            for type_id, t in storage["types"].items()
        }
        layouts[name] = (variables, types)
    return layouts


def test_both_halves_have_the_same_storage_layout():
    layouts = _layouts()
    (core, core_types), (extension, extension_types) = (
        layouts["MilestoneEscrow"],
        layouts["EscrowExtension"],
    )
    assert core == extension
    assert core_types == extension_types
    assert [label for label, *_ in core] == [
        "_operatorCountValue",
        "_dealCount",  # same slot: one cold read when a deal is created
        "_operators",
        "_keys",
        "_nameFallback",  # OpenZeppelin EIP712's (unused: the name is short)
        "_versionFallback",
        "_deals",
        "_milestones",
        "_offerNonces",
        "_policies",
        "_payees",
        "_owed",
        "_agreementNonces",
        "_payeeConsents",
    ]
    deal = next(t for t in core_types.values() if t["label"] == "struct EscrowBase.Deal")
    assert deal["numberOfBytes"] == "64"  # two slots
    milestone = next(t for t in core_types.values() if t["label"] == "struct EscrowBase.Milestone")
    assert milestone["numberOfBytes"] == "32"  # one slot
