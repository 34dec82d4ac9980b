// The page's confidential module (web/js/confidential.js) as a command for the Python interop
// tests (tests/confidential/): one JSON request on stdin, one JSON answer on stdout; a refused
// input answers {"error": "..."} (the ConfidentialError's message) and exits 1.
// Run as `node --import ./tests/js/vendor.mjs tests/js/confidential.mjs`.
import { openAsBlob, createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { JsonRpcProvider, Wallet } from "../../web/vendor/ethers.js";
import * as conf from "../../web/js/confidential.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const toFile = (stream, path) => stream.pipeTo(Writable.toWeb(createWriteStream(path)));

const ops = {
  async derive({ privateKey, generation = 0 }) {
    return conf.deriveIdentity(new Wallet(privateKey), generation);
  },
  async deriveFromWallet({ account, signatures, generation = 0 }) {
    // a wallet that hands out these signatures in turn (the tests make them in Python)
    const queue = [...signatures];
    const wallet = { getAddress: async () => account, signTypedData: async () => queue.shift() };
    return conf.deriveIdentity(wallet, generation);
  },
  async encrypt({ recipients, input, output }) {
    const { ciphertext, sealed } = await conf.encryptDocument(await openAsBlob(input), recipients);
    await toFile(ciphertext, output);
    return sealed;
  },
  async decrypt({ identities, input, output, manifest = null }) {
    const expected = manifest === null ? null : conf.parseManifest(Buffer.from(manifest, "hex"));
    const opened = await conf.decryptDocument(await openAsBlob(input), identities, { expected });
    await toFile(opened.blob.stream(), output); // written only once everything has checked out
    return { sha256: opened.sha256, size: opened.size };
  },
  async manifest({ sealed, cid }) {
    return { manifest: Buffer.from(conf.manifestBytes(sealed, cid)).toString("hex") };
  },
  async signBinding({ privateKey, chainId, recipient, generation, issuedAt }) {
    return conf.signBinding(new Wallet(privateKey), chainId, recipient, generation, issuedAt);
  },
  async verifyBinding({ doc, chainId, rpc = null }) {
    const check = rpc ? conf.erc1271Check(new JsonRpcProvider(rpc, chainId, { staticNetwork: true })) : null;
    const binding = await conf.verifyBinding(doc, chainId, check);
    return { ...binding, chainId: Number(binding.chainId), issuedAt: binding.issuedAt.toString() };
  },
};

try {
  const answer = await ops[request.op](request);
  process.stdout.write(JSON.stringify(answer));
} catch (error) {
  if (!(error instanceof conf.ConfidentialError)) throw error;
  process.stdout.write(JSON.stringify({ error: error.message }));
  process.exitCode = 1;
}
