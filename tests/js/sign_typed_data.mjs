// Sign EIP-712 typed data with ethers v6: an independent implementation for interop tests.
// stdin: {"privateKey": "0x…", "typedData": {types, primaryType, domain, message}}
// stdout: {"digest": "0x…", "signature": "0x…", "signer": "0x…"}
import { TypedDataEncoder, Wallet } from "ethers";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { privateKey, typedData } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const { EIP712Domain: _unused, ...types } = typedData.types; // ethers derives the domain type
const wallet = new Wallet(privateKey);
const digest = TypedDataEncoder.hash(typedData.domain, types, typedData.message);
const signature = await wallet.signTypedData(typedData.domain, types, typedData.message);
process.stdout.write(JSON.stringify({ digest, signature, signer: wallet.address }));
