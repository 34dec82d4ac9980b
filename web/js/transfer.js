// Bytes to and from the service in constant memory: uploads by XMLHttpRequest, whose upload
// events report progress (fetch cannot stream a request body over HTTP/1.1, and reports none),
// reading a Blob that the browser streams from wherever it keeps it; downloads read chunk by
// chunk from fetch's ReadableStream, hashed on the way through.
import { sha256 } from "../vendor/age.js";
import { UserError } from "./errors.js";

export const hexOf = (digest) => Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * POSTs `body` (a Blob, FormData or bytes) with `headers`; resolves { status, record } (the
 * answer's JSON, or null). `onProgress(sent, total)` follows the request body's upload.
 */
export function post(path, headers, body, onProgress = null) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) xhr.upload.onprogress = (event) => onProgress(event.loaded, event.total);
    xhr.onload = () => {
      let record = null;
      try {
        record = JSON.parse(xhr.responseText);
      } catch {
        record = null; // not JSON: a proxy's error page; the status says enough
      }
      resolve({ status: xhr.status, record });
    };
    xhr.onerror = () => reject(new UserError("The escrow service cannot be reached. Nothing was uploaded."));
    xhr.send(body);
  });
}

/** GETs `url`, refusing an answer that is not 2xx with "`what` could not be fetched". */
export async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch {
    throw new UserError(`${what} could not be fetched: the escrow service cannot be reached.`);
  }
  if (!response.ok) throw new UserError(`${what} could not be fetched (${response.status}).`);
  return response;
}

/**
 * Reads a stream to its end, hashing it: { sha256 (hex), size, head }. `head` is the whole
 * content when it is at most `keep` bytes (a manifest is read this way), else null; nothing
 * more is held. `onProgress(bytes)` after each chunk.
 */
export async function hashStream(stream, { keep = 0, onProgress = null } = {}) {
  const hash = sha256.create();
  let size = 0;
  let kept = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    hash.update(next.value);
    size += next.value.length;
    if (kept && size <= keep) kept.push(next.value);
    else kept = null;
    onProgress?.(size);
  }
  return { sha256: hexOf(hash.digest()), size, head: kept ? concat(kept, size) : null };
}

function concat(parts, size) {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
