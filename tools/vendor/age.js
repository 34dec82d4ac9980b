// Entry of the page's age bundle (build/vendor/age.js, served at /app/vendor/age.js): npm
// age-encryption imports @noble/* and @scure/base by bare name, which a page without a build
// step cannot resolve (and its CSP forbids an import map), so `make setup` bundles them with
// esbuild into one ES module. Also what web/js/confidential.js needs besides age itself:
// HKDF and incremental SHA-256 (@noble/hashes), bech32 and base32 (@scure/base).
export { Decrypter, Encrypter, identityToRecipient } from "age-encryption";
export { hkdf } from "@noble/hashes/hkdf.js";
export { sha256 } from "@noble/hashes/sha2.js";
export { base32nopad, bech32 } from "@scure/base";
