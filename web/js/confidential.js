// Confidential evidence in the page: the account's age identity derived from its wallet, the
// signed binding that publishes its recipient, documents encrypted and decrypted with age
// (streamed), and the manifest the chain anchors. The same rules as backend/confidential/
// (Python); docs/confidential.md is the reference both follow.
//
// age comes from /app/vendor/age.js: npm age-encryption with @noble/hashes and @scure/base,
// bundled by esbuild in `make setup` (the page has no build step, and its CSP allows no
// import map). Nothing here keeps a key: the identity lives in the caller's memory.
import { Decrypter, Encrypter, bech32, hkdf, identityToRecipient, sha256 } from "../vendor/age.js";
import { Contract, getAddress, TypedDataEncoder, verifyTypedData } from "../vendor/ethers.js";
import { ConfidentialError, bytes, checkPlaintext, hex, utf8 } from "./manifest.js";

export { ConfidentialError };
export { MANIFEST_FORMAT, checkCiphertext, manifestBytes, parseManifest, rawCid } from "./manifest.js";

// ---- the identity: one signature of the wallet, through HKDF-SHA256 ----

export const IDENTITY_DOMAIN = { name: "MilestoneEscrow encryption identity", version: "1" };
export const IDENTITY_TYPES = {
  EncryptionIdentity: [
    { name: "purpose", type: "string" },
    { name: "account", type: "address" },
    { name: "generation", type: "uint32" },
  ],
};
export const PURPOSE =
  "Derive my encryption key for the trade documents of my deals. Sign this only in a page " +
  "you trust: this signature opens every document encrypted to me.";
const HKDF_SALT = utf8("MilestoneEscrow encryption identity v1");
const HKDF_INFO = utf8("age-encryption.org/v1 X25519 identity");
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The typed data the wallet signs, as ethers' signTypedData(domain, types, message) takes it. */
export function identityMessage(account, generation = 0) {
  uint(generation, 32, "generation");
  return {
    domain: { ...IDENTITY_DOMAIN },
    types: IDENTITY_TYPES,
    message: { purpose: PURPOSE, account: address(account), generation },
  };
}

/**
 * The account's identity, from its wallet (`signer`: an ethers Signer, e.g. a BrowserProvider's
 * or a Wallet). Signs twice and refuses a wallet whose two signatures differ: it signs with
 * random nonces, so documents encrypted to one session's key would not open in the next.
 * Returns { account, generation, recipient: "age1…", secretKey: "AGE-SECRET-KEY-1…" }.
 */
export async function deriveIdentity(signer, generation = 0) {
  const { domain, types, message } = identityMessage(await signer.getAddress(), generation);
  const first = await signer.signTypedData(domain, types, message);
  const second = await signer.signTypedData(domain, types, message);
  if (hex(keyMaterial(first)) !== hex(keyMaterial(second))) {
    throw new ConfidentialError(
      "this wallet gave two different signatures for the same message, so it cannot derive a " +
        "stable encryption key; use a wallet that signs deterministically (RFC 6979: MetaMask, " +
        "Ledger, Trezor and most others do)",
    );
  }
  return identityFromSignature(message.account, first, generation);
}

/** The identity a signature of identityMessage(account, generation) derives. */
export async function identityFromSignature(account, signature, generation = 0) {
  const { domain, types, message } = identityMessage(account, generation);
  let signer;
  try {
    signer = verifyTypedData(domain, types, message, canonical(signature));
  } catch (error) {
    throw new ConfidentialError(`the identity signature does not recover: ${error.shortMessage ?? error.message}`);
  }
  if (signer !== message.account) {
    throw new ConfidentialError(`the identity message for ${message.account} was signed by ${signer}`);
  }
  const secret = hkdf(sha256, keyMaterial(signature), HKDF_SALT, HKDF_INFO, 32);
  const secretKey = bech32.encode("age-secret-key-", bech32.toWords(secret), false).toUpperCase();
  const recipient = await identityToRecipient(secretKey);
  return { account: message.account, generation, recipient, secretKey };
}

// The same signature as r, low s, v in 27/28: wallets also write v as 0/1, and a few hand out
// (r, n - s) with the other v, which is as valid (ethers refuses a high s).
function canonical(signature) {
  const raw = bytes(signature);
  if (raw.length !== 65) throw new ConfidentialError(`signature is ${raw.length} bytes, expected 65 (r, s, v)`);
  let v = raw[64] < 2 ? raw[64] + 27 : raw[64];
  const s = BigInt("0x" + hex(raw.subarray(32, 64)));
  const low = s > SECP256K1_N - s ? SECP256K1_N - s : s;
  if (low !== s) v = 55 - v; // 27 <-> 28
  return "0x" + hex(raw.subarray(0, 32)) + low.toString(16).padStart(64, "0") + v.toString(16).padStart(2, "0");
}

// r ‖ s with s in the lower half, without v (wallets write it as 0/1 or 27/28).
function keyMaterial(signature) {
  return bytes(canonical(signature)).subarray(0, 64);
}

// ---- the binding: the account's signature over its recipient ----

export const BINDING_FORMAT = "milestone-escrow/encryption-key@1";
export const BINDING_DOMAIN = { name: "MilestoneEscrow encryption key", version: "1" };
export const BINDING_TYPES = {
  EncryptionKey: [
    { name: "account", type: "address" },
    { name: "recipient", type: "string" },
    { name: "generation", type: "uint32" },
    { name: "issuedAt", type: "uint64" },
  ],
};
const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];

function bindingTypedData(doc) {
  if (doc?.format !== BINDING_FORMAT) throw new ConfidentialError(`not an encryption key binding (${BINDING_FORMAT})`);
  const { domain, binding } = doc;
  if (domain?.name !== BINDING_DOMAIN.name || domain?.version !== BINDING_DOMAIN.version) {
    throw new ConfidentialError(`binding domain is not ${BINDING_DOMAIN.name} version ${BINDING_DOMAIN.version}`);
  }
  recipientOrThrow(binding?.recipient);
  const message = {
    account: address(binding.account),
    recipient: binding.recipient,
    generation: uint(binding.generation, 32, "generation"),
    issuedAt: uint(binding.issuedAt, 64, "issuedAt").toString(),
  };
  return { domain: { ...BINDING_DOMAIN, chainId: uint(domain.chainId, 256, "chainId") }, types: BINDING_TYPES, message };
}

/** The account's binding of `recipient`, signed in its wallet: the JSON anyone verifies. */
export async function signBinding(signer, chainId, recipient, generation, issuedAt) {
  const doc = {
    format: BINDING_FORMAT,
    domain: { ...BINDING_DOMAIN, chainId: Number(chainId) },
    binding: { account: await signer.getAddress(), recipient, generation, issuedAt: String(issuedAt) },
  };
  const { domain, types, message } = bindingTypedData(doc);
  doc.binding.account = message.account;
  return { ...doc, signature: await signer.signTypedData(domain, types, message) };
}

/**
 * The binding, checked: format, chain, and the signature by the account, ECDSA or, given
 * `contractCheck(account, digest, signature)` (erc1271Check(provider)), EIP-1271. Returns
 * { chainId, account, recipient, generation, issuedAt }; throws ConfidentialError.
 */
export async function verifyBinding(doc, chainId, contractCheck = null) {
  const { domain, types, message } = bindingTypedData(doc);
  if (domain.chainId !== BigInt(chainId)) {
    throw new ConfidentialError(`binding is for chain ${domain.chainId}, not chain ${chainId}`);
  }
  let recovered = null;
  try {
    recovered = verifyTypedData(domain, types, message, doc.signature);
  } catch {
    recovered = null; // not a 65-byte ECDSA signature: perhaps a contract's
  }
  const digest = TypedDataEncoder.hash(domain, types, message);
  const ok = recovered === message.account || (contractCheck && (await contractCheck(message.account, digest, doc.signature)));
  if (!ok) {
    throw new ConfidentialError(
      recovered
        ? `binding for ${message.account} is signed by ${recovered}, not by the account`
        : `binding for ${message.account}: the signature does not recover`,
    );
  }
  return { chainId: domain.chainId, ...message, issuedAt: BigInt(message.issuedAt) };
}

/** EIP-1271: asks the account, if it is a contract, whether it accepts the signature. A wallet
 * that reverts refuses; an RPC that fails is an error of its own, not a refusal. */
export function erc1271Check(provider) {
  return async (account, digest, signature) => {
    if ((await provider.getCode(account)) === "0x") return false;
    const wallet = new Contract(account, ERC1271_ABI, provider);
    try {
      return (await wallet.isValidSignature(digest, signature)) === ERC1271_MAGIC;
    } catch (error) {
      if (error.code === "CALL_EXCEPTION") return false;
      throw error;
    }
  };
}

// ---- documents: age, streamed, hashed on the way through ----

/**
 * Encrypt a document (a Blob/File, a ReadableStream or bytes) to `recipients` ("age1…").
 * Returns { ciphertext: ReadableStream, sealed: Promise<{plaintextSha256, plaintextSize,
 * ciphertextSha256, ciphertextSize, recipients}> } resolved once the stream is consumed;
 * nothing is held but the chunk in flight.
 */
export async function encryptDocument(source, recipients, { onProgress } = {}) {
  const unique = [...new Set(recipients)];
  if (unique.length === 0) throw new ConfidentialError("no recipients: nobody could read the document");
  unique.forEach(recipientOrThrow);
  const encrypter = new Encrypter();
  unique.forEach((r) => encrypter.addRecipient(r));
  const plain = hashingStream(onProgress);
  const cipher = hashingStream();
  const ciphertext = (await encrypter.encrypt(toStream(source).pipeThrough(plain))).pipeThrough(cipher);
  const sealed = Promise.all([plain.done, cipher.done]).then(([p, c]) => ({
    plaintextSha256: p.sha256,
    plaintextSize: p.size,
    ciphertextSha256: c.sha256,
    ciphertextSize: c.size,
    recipients: unique,
  }));
  return { ciphertext, sealed };
}

/**
 * Decrypt a document with the caller's identities ("AGE-SECRET-KEY-1…"). Resolves with
 * { blob, sha256, size } only once the whole ciphertext has verified (age authenticates each
 * 64 KiB chunk; the last one marks the end, so a truncation is caught) and, given the anchored
 * `expected` manifest, the plaintext is the attested one; otherwise rejects with a
 * ConfidentialError and shows nothing.
 */
export async function decryptDocument(source, identities, { expected = null, onProgress } = {}) {
  if (identities.length === 0) throw new ConfidentialError("no identity to decrypt with");
  const decrypter = new Decrypter();
  identities.forEach((identity) => decrypter.addIdentity(identity));
  const plain = hashingStream(onProgress);
  // Chunk by chunk into Blobs (the browser keeps large ones out of the page's memory), read
  // here rather than by Response.blob(), which would swap age's error for "Failed to fetch".
  const parts = [];
  try {
    const reader = (await decrypter.decrypt(toStream(source))).pipeThrough(plain).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      parts.push(new Blob([next.value]));
    }
  } catch (error) {
    throw new ConfidentialError(decryptionReason(error));
  }
  const blob = new Blob(parts);
  const { sha256: digest, size } = await plain.done;
  if (expected) checkPlaintext(expected, digest, size);
  return { blob, sha256: digest, size };
}

// age-encryption's messages, said for a user (they are worded for a developer).
function decryptionReason(error) {
  const text = String(error?.message ?? error);
  if (/no identity matched/.test(text)) return "this document is not encrypted to your key";
  if (/header HMAC/.test(text)) return "the ciphertext's header was tampered with";
  if (/invalid tag/.test(text)) return "the ciphertext is truncated or was tampered with"; // a payload chunk
  if (/invalid (version line|stanza|header)/.test(text)) return "not an age-encrypted document, or cut short before its payload";
  return `the ciphertext does not decrypt: ${text}`;
}

// ---- helpers ----

/** A pass-through stream that hashes (sha256, incrementally) and counts what goes through it;
 * its `done` resolves with { sha256 (hex), size } once the stream has ended. */
export function hashingStream(onProgress) {
  const hash = sha256.create();
  let size = 0;
  let paused = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const stream = new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      size += chunk.length;
      onProgress?.(size);
      controller.enqueue(chunk);
      // A Blob's stream feeds the pipe without returning to the event loop: without a pause
      // a 50 MB document would freeze the page (and its progress bar) until it is done.
      if (size - paused >= PAUSE_EVERY) {
        paused = size;
        return pause();
      }
    },
    flush() {
      finish({ sha256: hex(hash.digest()), size });
    },
  });
  return Object.assign(stream, { done });
}

const PAUSE_EVERY = 1 << 20;
// Back to the event loop (to paint, and to handle input), then on.
const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

function toStream(source) {
  if (source instanceof ReadableStream) return inSlices(source);
  if (typeof Blob !== "undefined" && source instanceof Blob) return inSlices(source.stream());
  const data = typeof source === "string" ? utf8(source) : bytes(source);
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
}

const SLICE = 65536; // age's chunk
/**
 * The stream in slices of at most 64 KiB, one at a time as they are read. A browser hands a
 * fetch body or a Blob in chunks of up to megabytes; age turns each whole into 64 KiB chunks
 * queued at once, and each stage after it queues its own: sliced, nothing but the chunk the
 * browser handed and the slice in flight is held.
 */
function inSlices(stream) {
  const reader = stream.getReader();
  let chunk = new Uint8Array(0);
  let at = 0;
  return new ReadableStream(
    {
      async pull(controller) {
        while (at >= chunk.length) {
          const next = await reader.read();
          if (next.done) return controller.close();
          chunk = next.value;
          at = 0;
        }
        controller.enqueue(chunk.subarray(at, at + SLICE));
        at += SLICE;
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function recipientOrThrow(recipient) {
  try {
    if (typeof recipient === "string" && recipient.startsWith("age1") && bech32.decode(recipient, 1024).prefix === "age") {
      if (bech32.fromWords(bech32.decode(recipient, 1024).words).length === 32) return recipient;
    }
  } catch {
    // falls through to the error below
  }
  // at most 12 characters: enough to recognise it, never a secret key's payload
  const shown = typeof recipient === "string" ? JSON.stringify(recipient.slice(0, 12)) + (recipient.length > 12 ? "…" : "") : String(recipient);
  throw new ConfidentialError(`${shown} is not an age X25519 recipient (age1…)`);
}

function address(value) {
  try {
    return getAddress(value);
  } catch {
    throw new ConfidentialError(`${JSON.stringify(value)} is not an address`);
  }
}

function uint(value, bits, name) {
  const ok = (typeof value === "number" && Number.isSafeInteger(value)) || (typeof value === "string" && /^[0-9]+$/.test(value)) || typeof value === "bigint";
  if (!ok || BigInt(value) < 0n || BigInt(value) >= 1n << BigInt(bits)) {
    throw new ConfidentialError(`${name} must be a uint${bits}`);
  }
  return bits > 32 ? BigInt(value) : Number(value);
}
