// AWS Signature Version 4, signed in the browser: headers (Authorization) and presigned URLs.
// WebCrypto where the page is a secure context (localhost, https), our own SHA-256 otherwise (sha256.js).
// Tested against botocore's signer (tests/console/test_console_sigv4.py).

import { hmacSha256, sha256 } from "./sha256.js";

const encoder = new TextEncoder();
let pureJs = !(globalThis.crypto && globalThis.crypto.subtle);

/** Use the plain JavaScript SHA-256 even where WebCrypto exists (the tests compare both). */
export function usePureJs(flag) {
  pureJs = flag || !(globalThis.crypto && globalThis.crypto.subtle);
}

export function toBytes(data) {
  if (data === undefined || data === null) return new Uint8Array();
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError("cannot hash a body of this kind; sign it as UNSIGNED-PAYLOAD");
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function digest(data) {
  const bytes = toBytes(data);
  if (pureJs) return sha256(bytes);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(key, data) {
  const bytes = toBytes(data);
  if (pureJs) return hmacSha256(key, bytes);
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, bytes));
}

export async function sha256Hex(data) {
  return hex(await digest(data));
}

/** RFC 3986 percent-encoding as SigV4 wants it (only A-Z a-z 0-9 - _ . ~ stay). */
export function uriEncode(text, keepSlash = false) {
  const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? encoded.replace(/%2F/g, "/") : encoded;
}

export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** The canonical URI: S3 signs the path as sent; the other services sign it normalized and encoded again. */
function canonicalUri(path, service) {
  if (service === "s3") return path || "/";
  const segments = [];
  for (const segment of (path || "/").split("/")) {
    if (segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  let normalized = segments.join("/");
  if (!normalized.startsWith("/")) normalized = "/" + normalized;
  if (path.endsWith("/") && !normalized.endsWith("/")) normalized += "/";
  return normalized.split("/").map((s) => uriEncode(s)).join("/");
}

function canonicalQuery(pairs) {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v ?? "")])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export function queryString(pairs) {
  return pairs.map(([k, v]) => (v === null || v === undefined ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`)).join("&");
}

async function signingKey(secret, day, region, service) {
  let key = await hmac(encoder.encode("AWS4" + secret), day);
  key = await hmac(key, region);
  key = await hmac(key, service);
  return hmac(key, "aws4_request");
}

async function signature(credentials, stamp, region, service, canonical) {
  const day = stamp.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, await sha256Hex(canonical)].join("\n");
  const key = await signingKey(credentials.secretAccessKey, day, region, service);
  return { scope, signature: hex(await hmac(key, toSign)) };
}

/**
 * Sign `request` ({method, path, query: [[k, v]], headers: {}, body}) in place: adds x-amz-date (and the
 * session token, and x-amz-content-sha256 for S3) and Authorization. `host` is the Host the browser sends.
 */
export async function signRequest(request, { service, region, credentials, host, unsignedPayload = false, now = new Date() }) {
  const stamp = amzDate(now);
  const headers = request.headers;
  headers["x-amz-date"] = stamp;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const payloadHash = unsignedPayload ? "UNSIGNED-PAYLOAD" : await sha256Hex(request.body);
  if (service === "s3") headers["x-amz-content-sha256"] = payloadHash;
  const signed = { host };
  for (const [name, value] of Object.entries(headers)) signed[name.toLowerCase()] = String(value).trim().replace(/\s+/g, " ");
  const names = Object.keys(signed).sort();
  const canonical = [
    request.method,
    canonicalUri(request.path, service),
    canonicalQuery(request.query || []),
    names.map((n) => `${n}:${signed[n]}\n`).join(""),
    names.join(";"),
    payloadHash,
  ].join("\n");
  const result = await signature(credentials, stamp, region, service, canonical);
  headers["authorization"] =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${result.scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${result.signature}`;
  return request;
}

/** A presigned URL (query-string authentication, only the host signed) valid `expires` seconds from `now`. */
export async function presignUrl(request, { service, region, credentials, host, origin, expires = 3600, now = new Date() }) {
  const stamp = amzDate(now);
  const query = [...(request.query || [])];
  query.push(
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${credentials.accessKeyId}/${stamp.slice(0, 8)}/${region}/${service}/aws4_request`],
    ["X-Amz-Date", stamp],
    ["X-Amz-Expires", String(expires)],
    ["X-Amz-SignedHeaders", "host"],
  );
  if (credentials.sessionToken) query.push(["X-Amz-Security-Token", credentials.sessionToken]);
  const canonical = [
    request.method,
    canonicalUri(request.path, service),
    canonicalQuery(query),
    `host:${host}\n`,
    "host",
    service === "s3" ? "UNSIGNED-PAYLOAD" : await sha256Hex(""),
  ].join("\n");
  const result = await signature(credentials, stamp, region, service, canonical);
  query.push(["X-Amz-Signature", result.signature]);
  return `${origin}${request.path}?${queryString(query)}`;
}
