// "Publish my encryption key", on the pages of every connected account: whether the account
// has a verified binding on the service, and the button that derives its key in the wallet,
// signs the binding and publishes it (docs/confidential.md), so that documents can be
// encrypted to it.
import { button } from "../actions.js";
import { explain } from "../errors.js";
import { publishMyKey, publishedKey } from "../keys.js";
import { me } from "../state.js";
import { h, replace } from "../ui.js";

/** The connected account's card, filled in once its binding is read; `refresh` redraws the page. */
export function keyCard(refresh) {
  const card = h("section.card#encryption-key", h("h2", "Your encryption key"), h("p.muted", "Reading…"));
  publishedKey(me()).then(
    (binding) => replace(card, h("h2", "Your encryption key"), binding
      ? h("p#key-status", "Published: confidential documents of your deals are encrypted to you (", h("code", { title: binding.recipient }, binding.recipient.slice(0, 16) + "…"), ").")
      : [
          h("p#key-status", "Not published: nobody can encrypt a confidential document to you, so you cannot read your deals' confidential documents."),
          h("p.muted", "Your wallet signs a fixed message twice (your key is derived from it, nothing new to keep), then signs the key's publication."),
          button("publish-key", "Publish my encryption key", async () => {
            await publishMyKey();
            await refresh();
          }, "Your encryption key is published."),
        ]),
    (error) => replace(card, h("h2", "Your encryption key"), h("p.notice.error", explain(error).message)),
  );
  return card;
}
