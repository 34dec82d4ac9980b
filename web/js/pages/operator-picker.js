// Oracles and arbiters picked by name: a search box over the service's index of the current
// escrow's operators (GET /escrows/{escrow}/operators?q=; each escrow has its own registry, and
// the form's token picks the escrow), as a WAI-ARIA combobox (the box owns a listbox; Down and
// Up move through it, Enter picks, Escape closes). A pick fills the form's own ids field, which
// stays typeable ("1, 2"); every id in it is named under it with how many live keys its
// operator has, and one with none is flagged: no key of it could attest or rule. An operator
// with no live key is listed but cannot be picked. The escrow checks the ids again on chain.
// Keys and clicks act only on the list that answers what is typed now: while a newer search is
// on its way (the debounce, the service's answer) nothing is listed, so Down and Enter cannot
// pick from an older list. When the form's token changes, the names are looked up again in the
// new escrow's index (escrowChanged).
import { api } from "../chain.js";
import { state } from "../state.js";
import { h, replace } from "../ui.js";

const SHOWN = 20; // options listed at once: narrow the search for more
const DEBOUNCE_MS = 150;
const ESCROW_CHANGED = "escrowchanged"; // dispatched on each picker by escrowChanged
let pickers = 0;
const known = new Map(); // `${escrow}:${id}` -> the service's answer, for this page's life
const operators = (escrow) => `/escrows/${escrow}/operators`;
const knownKey = (escrow, id) => `${escrow.toLowerCase()}:${id}`;

/** After the form's token, so its escrow, changed: every picker in `form` drops what it lists
 * (the other escrow's operators) and names its typed ids again from the new escrow's index. */
export function escrowChanged(form) {
  for (const picker of form.querySelectorAll(".operator-picker")) picker.dispatchEvent(new Event(ESCROW_CHANGED));
}

/** A picker filling `field` (an input of operator ids): `multiple` adds to it, else replaces. */
export function operatorPicker(field, { what, multiple }) {
  const id = `operator-picker-${++pickers}`;
  const list = h(`ul.operator-options#${id}-list`, { role: "listbox", hidden: true, "aria-label": `Operators found for ${what}` });
  const search = h(`input.operator-search#${id}-search`, {
    type: "search", role: "combobox", autocomplete: "off", placeholder: "type part of a name",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": list.id,
  });
  const names = h(`p.hint.operator-names#${id}-names`, { "aria-live": "polite" });
  field.setAttribute("aria-describedby", names.id);
  let options = [];
  let active = -1;
  let timer = null;
  let searches = 0; // numbers each search and each change of what it asks: only the latest answers

  const close = () => {
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (next) => {
    const items = [...list.children];
    if (!options.length) return;
    active = (next + options.length) % options.length;
    items.forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    search.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  };
  const pick = (op) => {
    if (!op || op.live_key_count === 0) return; // listed, flagged, not pickable
    const ids = multiple ? parseIds(field.value) : [];
    if (!ids.includes(op.operator_id)) ids.push(op.operator_id);
    field.value = ids.join(", ");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    search.value = "";
    close();
    search.focus();
  };
  const outdated = () => { // what is listed no longer answers what is asked: nothing to pick
    searches += 1;
    options = [];
    active = -1;
    search.removeAttribute("aria-activedescendant");
    replace(list, h("li.muted", { role: "option", "aria-disabled": "true" }, "Searching…"));
  };
  const show = async () => {
    clearTimeout(timer);
    const mine = ++searches;
    const escrow = state.escrowAddress;
    const q = search.value.trim();
    const found = await api(`${operators(escrow)}?${new URLSearchParams({ q, limit: String(SHOWN) })}`).catch(() => null);
    for (const op of found ?? []) known.set(knownKey(escrow, op.operator_id), op);
    if (mine !== searches) return; // typed on, or the token changed, meanwhile: a newer search answers
    options = found ?? [];
    replace(list, ...(found === null
      ? [h("li.muted", { role: "option", "aria-disabled": "true" }, "The service cannot list operators now: type their ids.")]
      : options.length
        ? options.map((op, i) => option(op, `${id}-option-${i}`, () => pick(op)))
        : [h("li.muted", { role: "option", "aria-disabled": "true" }, `No operator named like “${q}”.`)]));
    if (found === null || !options.length) options = [];
    list.hidden = false;
    search.setAttribute("aria-expanded", "true");
    active = -1;
  };

  search.addEventListener("input", () => {
    outdated();
    clearTimeout(timer);
    timer = setTimeout(show, DEBOUNCE_MS);
  });
  search.addEventListener("focus", () => { if (list.hidden) show(); });
  search.addEventListener("blur", () => setTimeout(close, 150)); // after a click on an option
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) show();
      else highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault(); // never submits the deal from the search box
      if (!list.hidden && active >= 0) pick(options[active]);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  field.addEventListener("input", () => describeIds(field, names));
  describeIds(field, names);
  const picker = h("div.operator-picker",
    h("label", { for: search.id }, `Find ${what} by name`),
    h("div.combo", search, list), names);
  picker.addEventListener(ESCROW_CHANGED, () => {
    clearTimeout(timer);
    outdated();
    close();
    describeIds(field, names);
  });
  return picker;
}

function option(op, id, onPick) {
  const keys = op.live_key_count;
  const idle = keys === 0;
  return h(`li.operator-option${idle ? ".idle" : ""}`, {
    id, role: "option", "aria-selected": "false", "aria-disabled": String(idle),
    dataset: { operator: String(op.operator_id) },
    onmousedown: (event) => { event.preventDefault(); onPick(); },
  },
  h("strong", op.name || "unnamed"), ` #${op.operator_id} · `,
  idle ? h("span.no-keys", "no live key: cannot attest or rule") : `${keys} live key${keys === 1 ? "" : "s"}`);
}

/** "1, 2" -> [1, 2]: the positive whole numbers in what was typed (rules.js judges the rest). */
function parseIds(text) {
  return [...new Set(String(text).split(/[\s,]+/).filter((t) => /^\d+$/.test(t)).map(Number).filter((n) => n > 0))];
}

async function describeIds(field, target) {
  const ids = parseIds(field.value);
  const escrow = state.escrowAddress;
  if (!ids.length) {
    replace(target);
    return;
  }
  const ops = await Promise.all(ids.map((id) => lookUp(escrow, id)));
  if (parseIds(field.value).join() !== ids.join() || escrow !== state.escrowAddress) return; // typed on, or the token changed, meanwhile
  replace(target, ...ops.flatMap((op, i) => [i ? "; " : "", describe(ids[i], op)]));
}

/** The service's answer for operator `id` of `escrow`; undefined when it knows none, null when
 * it cannot say (unreachable: the page says nothing rather than guess). */
async function lookUp(escrow, id) {
  const key = knownKey(escrow, id);
  if (known.has(key)) return known.get(key);
  const op = await api(`${operators(escrow)}/${id}`).catch((error) => (error.status === 404 ? undefined : null));
  if (op) known.set(key, op);
  return op;
}

function describe(id, op) {
  if (op === null) return `#${id}`;
  if (op === undefined) return h("span.no-keys", `#${id}: no such operator (or not indexed yet)`);
  const keys = op.live_key_count;
  if (keys === 0) return h("span.no-keys", `#${id} ${op.name}: no live key, it cannot attest or rule`);
  return `#${id} ${op.name} (${keys} live key${keys === 1 ? "" : "s"})`;
}
