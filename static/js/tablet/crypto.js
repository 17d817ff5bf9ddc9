// Encryption at rest for the tablet (SPEC §5): a random AES-GCM data key, wrapped by a key
// derived from the user's password (PBKDF2-SHA256), never stored unwrapped. Unwrapped keys are
// non-extractable and live only in memory while the app is unlocked.

export const PBKDF2_ITERATIONS = 600000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function randomBytes(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

export async function deriveWrappingKey(password, salt, iterations = PBKDF2_ITERATIONS) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    material,
    { name: "AES-KW", length: 256 },
    false,
    ["wrapKey", "unwrapKey"],
  );
}

// A new data key: returns the wrapped bytes to store and a non-extractable key to use.
export async function createDataKey(wrappingKey) {
  const fresh = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
  const wrapped = new Uint8Array(await crypto.subtle.wrapKey("raw", fresh, wrappingKey, "AES-KW"));
  return { wrapped, key: await unwrapDataKey(wrappingKey, wrapped) };
}

// Throws when the password (and so the wrapping key) is wrong: AES-KW checks integrity.
export function unwrapDataKey(wrappingKey, wrapped) {
  return crypto.subtle.unwrapKey("raw", wrapped, wrappingKey, "AES-KW", { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

// A fresh IV for every write.
export async function encryptJson(key, value) {
  const iv = randomBytes(12);
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(JSON.stringify(value)));
  return { iv, ct: new Uint8Array(ciphertext) };
}

export async function decryptJson(key, sealed) {
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, key, sealed.ct);
  return JSON.parse(decoder.decode(plain));
}

// The user's password changed: the same data key, wrapped again under the new password. The
// key is extractable only inside this function, for the re-wrap.
export async function rewrapDataKey(oldWrappingKey, wrapped, newWrappingKey) {
  const key = await crypto.subtle.unwrapKey("raw", wrapped, oldWrappingKey, "AES-KW", { name: "AES-GCM" }, true, ["encrypt", "decrypt"]);
  return new Uint8Array(await crypto.subtle.wrapKey("raw", key, newWrappingKey, "AES-KW"));
}
