// The memory the page's module takes to encrypt a large document, streamed file to file (as a
// Blob is read in the page). Prints JSON { bytes, baselineRss, peakRss } (bytes of resident
// set before and at the peak). Run by tests/confidential/test_streaming.py as
// `node --import ./tests/js/vendor.mjs tests/js/stream_memory.mjs PLAIN CIPHER RECIPIENT`.
import { createWriteStream, openAsBlob, statSync } from "node:fs";
import { Writable } from "node:stream";
import { encryptDocument } from "../../web/js/confidential.js";

const [plain, cipher, recipient] = process.argv.slice(2);
const baselineRss = process.resourceUsage().maxRSS * 1024;
const { ciphertext, sealed } = await encryptDocument(await openAsBlob(plain), [recipient]);
await ciphertext.pipeTo(Writable.toWeb(createWriteStream(cipher)));
await sealed;
const peakRss = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ bytes: statSync(plain).size, baselineRss, peakRss }));
