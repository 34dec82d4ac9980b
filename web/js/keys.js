// Encryption keys in the page: the connected account's age identity (derived from its wallet,
// docs/confidential.md, kept in this page's memory only, for this session), publishing its
// recipient (a binding the account signs, POST /keys), and the readers of a deal with the
// bindings the service serves, each verified here: the service is not trusted with them.
import { api, dealPath } from "./chain.js";
import { deriveIdentity, erc1271Check, signBinding, verifyBinding } from "./confidential.js";
import { UserError, explain } from "./errors.js";
import { sameAddress } from "./format.js";
import { me, state } from "./state.js";
import { walletProblem } from "./wallet.js";

// account -> identity, for this page's life: the wallet is asked to sign (twice) once.
const identities = new Map();

async function walletSigner() {
  const problem = walletProblem();
  if (problem) throw new UserError(problem);
  return state.wallet.provider.getSigner(state.wallet.account);
}

/** The connected account's identity, derived in its wallet on first use. */
export async function myIdentity() {
  const account = me();
  if (!identities.has(account)) {
    let identity;
    try {
      identity = await deriveIdentity(await walletSigner());
    } catch (error) {
      throw error.name === "ConfidentialError" ? new UserError(`No encryption key: ${error.message}.`) : explain(error);
    }
    identities.set(account, identity);
  }
  return identities.get(account);
}

/** The account's published binding, verified, or null (none, or one that does not verify). */
export async function publishedKey(account) {
  const record = await api(`/keys/${account}`).catch((error) => (error.status === 404 ? null : Promise.reject(error)));
  if (!record) return null;
  return verified(account, record.document);
}

/** Derives the connected account's key, signs its binding and hands it to the service. */
export async function publishMyKey() {
  const identity = await myIdentity();
  const current = await publishedKey(identity.account);
  if (current?.recipient === identity.recipient) return current;
  let doc;
  try {
    doc = await signBinding(await walletSigner(), state.config.chain_id, identity.recipient, identity.generation, Math.floor(Date.now() / 1000));
  } catch (error) {
    throw explain(error);
  }
  await api("/keys", { method: "POST", body: JSON.stringify(doc) });
  return verified(identity.account, doc);
}

// A binding checked here, for `account` and this chain; null when it does not verify.
async function verified(account, doc) {
  try {
    const binding = await verifyBinding(doc, state.config.chain_id, erc1271Check(state.read));
    return sameAddress(binding.account, account) ? binding : null;
  } catch (error) {
    if (error.name === "ConfidentialError") return null;
    throw explain(error);
  }
}

/**
 * The readers of a deal of the current escrow (GET /escrows/{escrow}/deals/{id}/readers):
 * each {account, roles, operator, recipient}, `recipient` null when the account has published
 * no key or its binding does not verify. An operator's key is asked of the registry here, now:
 * the service keeps its list of live keys for a few seconds, and a key revoked meanwhile gets
 * nothing new.
 */
export async function dealReaders(dealId) {
  const { readers } = await api(dealPath(dealId, "/readers"));
  const all = await Promise.all(readers.map(async (r) => ({
    account: r.account,
    roles: r.roles,
    operator: r.operator,
    recipient: r.binding ? (await verified(r.account, r.binding))?.recipient ?? null : null,
    live: r.operator === null || (await state.escrow.operatorOf(r.account)) === BigInt(r.operator),
  })));
  return all.filter((r) => r.live).map(({ live, ...r }) => r);
}

/** "the buyer", "the supplier and payee", "oracle #3": a reader's roles in words. */
export function describeReader(reader, names = new Map()) {
  const roles = reader.roles.map((role) => (reader.operator && role !== "buyer" && role !== "supplier" && role !== "payee"
    ? `${role} #${reader.operator}${names.get(BigInt(reader.operator)) ? ` ${names.get(BigInt(reader.operator))}` : ""}`
    : role));
  return `the ${roles.join(" and ")}`;
}
