// DOM helpers: no framework, no build step.
import { sameAddress, shortAddress } from "./format.js";

/** h('div.card#x', {onclick}, child, ...) -> element. Strings become text nodes (never HTML). */
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || "div");
  for (const part of rest) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An address shortened, the whole of it in the title, with a copy button. */
export function addressTag(address, you) {
  const button = h(
    "button.copy",
    {
      type: "button",
      title: "Copy the full address",
      "aria-label": `Copy ${address}`,
      onclick: async (event) => {
        event.preventDefault();
        await copyText(address);
        button.textContent = "copied";
        setTimeout(() => (button.textContent = "copy"), 1500);
      },
    },
    "copy",
  );
  return h(
    "span.address",
    { dataset: { address } },
    h("code", { title: address }, shortAddress(address)),
    sameAddress(you, address) ? h("span.you", "you") : null,
    button,
  );
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Not a secure context (plain http on another host): the old way.
    const area = h("textarea", { readonly: true }, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

/** A message in the page's notice area: kind is "error", "ok" or "info". */
export function notify(kind, text) {
  const area = document.getElementById("notices");
  const note = h(
    `div.notice.${kind}`,
    { role: kind === "error" ? "alert" : "status" },
    h("span", text),
    h("button.dismiss", { type: "button", "aria-label": "Dismiss", onclick: () => note.remove() }, "×"),
  );
  area.append(note);
  if (kind !== "error") setTimeout(() => note.remove(), 8000);
  return note;
}

export function clearNotices() {
  replace(document.getElementById("notices"));
}
