// Paying into the escrow from the wallet: the balance checked first, then an EIP-2612 permit
// signed, or an approval sent when the allowance is short.
import { chainTime, ethers, tokenFor } from "./chain.js";
import { amount } from "./describe.js";
import { UserError } from "./errors.js";
import { me, state } from "./state.js";
import { send, signTyped } from "./wallet.js";

/** Checked before anything is signed or sent. */
export async function requireBalance(need, what) {
  const balance = await state.token.contract.balanceOf(me());
  if (balance < need) {
    throw new UserError(`Your balance is ${amount(balance)}; ${what} needs ${amount(need)}. Nothing was sent.`);
  }
}

/** An EIP-2612 permit for the escrow to take `value`, signed in the wallet, valid one hour. */
export async function signPermit(value) {
  const token = state.token.contract;
  const nonce = await token.nonces(me());
  const deadline = (await chainTime()) + 3600n;
  const signature = await signTyped(
    "Permit",
    { name: state.token.permit.name, version: state.token.permit.version, chainId: state.config.chain_id, verifyingContract: state.token.address },
    state.config.types.Permit,
    { owner: me(), spender: state.escrowAddress, value, nonce, deadline },
  );
  const { v, r, s } = ethers.Signature.from(signature);
  return { deadline, v, r, s };
}

/** Approves the escrow for `value` first when its allowance is short (its own transaction). */
export async function approveIfShort(value) {
  const allowance = await state.token.contract.allowance(me(), state.escrowAddress);
  if (allowance < value) {
    await send(`Approving ${amount(value)} for the escrow`, (_, signer) => tokenFor(signer).approve(state.escrowAddress, value));
  }
}
