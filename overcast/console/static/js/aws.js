// A small model-driven AWS client: serializes a call from the botocore model Overcast serves
// (/_overcast/console/api/models/<service>), signs it (sigv4.js), sends it, and parses the answer.
// Protocols: json, rest-json, rest-xml, query, ec2 (every service Overcast serves offers one of them).
// Values come back as plain objects; timestamps as Date, blobs as Uint8Array.

import { crc32 } from "./sha256.js";
import { presignUrl, queryString, signRequest, toBytes, uriEncode } from "./sigv4.js";

export const session = {
  credentials: null, // {accessKeyId, secretAccessKey, sessionToken?}
  region: "us-east-1",
  account: "000000000000",
  clockOffset: 0, // seconds the virtual clock is ahead of the wall clock (presigned URLs expire on it)
  version: "",
  onCall: null, // (service, operation, status, millis) after each call, for the status bar
};

export class AwsError extends Error {
  constructor(code, message, status, service, operation) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.service = service;
    this.operation = operation;
  }
  get notImplemented() {
    return this.status === 501;
  }
}

const models = new Map();

export async function loadModel(service) {
  if (!models.has(service)) {
    const loading = fetch(`api/models/${encodeURIComponent(service)}`).then(async (response) => {
      if (!response.ok) throw new AwsError("NoModel", `no model for ${service} (${response.status})`, response.status, service);
      return response.json();
    });
    models.set(service, loading);
    loading.catch(() => models.delete(service));
  }
  return models.get(service);
}

// -- values ------------------------------------------------------------------------------------------------

export function b64encode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function b64decode(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function asDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value * 1000);
  return new Date(value);
}

function timestamp(value, format) {
  const date = asDate(value);
  if (format === "unixTimestamp") return date.getTime() / 1000;
  if (format === "rfc822") return date.toUTCString();
  return date.toISOString().replace(/\.000Z$/, "Z");
}

function readTimestamp(text) {
  if (typeof text === "number") return new Date(text * 1000);
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  return new Date(text);
}

function scalarFromText(shape, text) {
  switch (shape.type) {
    case "integer":
    case "long":
    case "float":
    case "double":
      return Number(text);
    case "boolean":
      return text === "true";
    case "timestamp":
      return readTimestamp(text);
    case "blob":
      return b64decode(text.trim());
    default:
      return text;
  }
}

// -- JSON bodies -------------------------------------------------------------------------------------------

function toJsonValue(shapes, ref, value, defaultTime) {
  const shape = shapes[ref.shape];
  if (value === undefined || value === null) return undefined;
  switch (shape.type) {
    case "structure": {
      if (shape.document || typeof value !== "object") return value;
      const out = {};
      for (const [name, member] of Object.entries(shape.members || {})) {
        if (member.location) continue;
        const serialized = toJsonValue(shapes, member, value[name], defaultTime);
        if (serialized !== undefined) out[member.locationName || name] = serialized;
      }
      return out;
    }
    case "list":
      return Array.isArray(value) ? value.map((item) => toJsonValue(shapes, shape.member, item, defaultTime)) : value;
    case "map":
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(shapes, shape.value, v, defaultTime)]));
    case "timestamp":
      return timestamp(value, ref.timestampFormat || shape.timestampFormat || defaultTime);
    case "blob":
      return b64encode(toBytes(value)); // a string is sent as its UTF-8 bytes, as boto3 does
    default:
      return value;
  }
}

function fromJsonValue(shapes, ref, value) {
  const shape = shapes[ref.shape];
  if (value === undefined || value === null) return value;
  switch (shape.type) {
    case "structure": {
      if (shape.document || typeof value !== "object") return value;
      const out = {};
      for (const [name, member] of Object.entries(shape.members || {})) {
        const key = member.locationName || name;
        if (!member.location && key in value) out[name] = fromJsonValue(shapes, member, value[key]);
      }
      return out;
    }
    case "list":
      return Array.isArray(value) ? value.map((item) => fromJsonValue(shapes, shape.member, item)) : value;
    case "map":
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJsonValue(shapes, shape.value, v)]));
    case "timestamp":
      return readTimestamp(value);
    case "blob":
      return typeof value === "string" ? b64decode(value) : value;
    default:
      return value;
  }
}

// -- query and EC2 bodies --------------------------------------------------------------------------------

const capitalize = (name) => name.charAt(0).toUpperCase() + name.slice(1);

function toQuery(shapes, ref, value, prefix, out, ec2) {
  const shape = shapes[ref.shape];
  if (value === undefined || value === null) return;
  switch (shape.type) {
    case "structure":
      for (const [name, member] of Object.entries(shape.members || {})) {
        const key = ec2 ? member.queryName || capitalize(member.locationName || name) : member.locationName || name;
        toQuery(shapes, member, value[name], prefix ? `${prefix}.${key}` : key, out, ec2);
      }
      return;
    case "list": {
      if (!value.length) {
        if (!ec2) out.push([prefix, ""]);
        return;
      }
      let base;
      if (ec2) base = prefix;
      else if (ref.flattened || shape.flattened) {
        const memberName = shape.member.locationName;
        base = memberName ? prefix.split(".").slice(0, -1).concat([memberName]).join(".") : prefix;
      } else base = `${prefix}.${shape.member.locationName || "member"}`;
      value.forEach((item, i) => toQuery(shapes, shape.member, item, `${base}.${i + 1}`, out, ec2));
      return;
    }
    case "map": {
      const base = ref.flattened || shape.flattened ? prefix : `${prefix}.entry`;
      const keyName = shape.key.locationName || "key";
      const valueName = shape.value.locationName || "value";
      Object.entries(value).forEach(([k, v], i) => {
        out.push([`${base}.${i + 1}.${keyName}`, k]);
        toQuery(shapes, shape.value, v, `${base}.${i + 1}.${valueName}`, out, ec2);
      });
      return;
    }
    case "timestamp":
      out.push([prefix, timestamp(value, ref.timestampFormat || shape.timestampFormat || "iso8601")]);
      return;
    case "blob":
      out.push([prefix, b64encode(toBytes(value))]);
      return;
    case "boolean":
      out.push([prefix, value ? "true" : "false"]);
      return;
    default:
      out.push([prefix, String(value)]);
  }
}

// -- XML ---------------------------------------------------------------------------------------------------

function childElements(node, name) {
  return Array.from(node.children).filter((child) => child.localName === name);
}

function fromXml(shapes, ref, node) {
  const shape = shapes[ref.shape];
  switch (shape.type) {
    case "structure": {
      const out = {};
      for (const [name, member] of Object.entries(shape.members || {})) {
        if (member.location) continue;
        const memberShape = shapes[member.shape];
        const key = member.locationName || name;
        if (member.xmlAttribute) {
          const attribute = Array.from(node.attributes || []).find((a) => a.name === key || a.localName === key.split(":").pop());
          if (attribute) out[name] = scalarFromText(memberShape, attribute.value);
          continue;
        }
        if (memberShape.type === "list" && (member.flattened || memberShape.flattened)) {
          const items = childElements(node, memberShape.member.locationName || key);
          if (items.length) out[name] = items.map((item) => fromXml(shapes, memberShape.member, item));
          continue;
        }
        if (memberShape.type === "map" && (member.flattened || memberShape.flattened)) {
          const entries = childElements(node, key);
          if (entries.length) out[name] = mapEntries(shapes, memberShape, entries);
          continue;
        }
        const child = childElements(node, key)[0];
        if (child) out[name] = fromXml(shapes, member, child);
      }
      return out;
    }
    case "list":
      return Array.from(node.children).map((item) => fromXml(shapes, shape.member, item));
    case "map":
      return mapEntries(shapes, shape, childElements(node, "entry"));
    default:
      return scalarFromText(shape, node.textContent);
  }
}

function mapEntries(shapes, shape, entries) {
  const keyName = shape.key.locationName || "key";
  const valueName = shape.value.locationName || "value";
  const out = {};
  for (const entry of entries) {
    const key = childElements(entry, keyName)[0];
    const value = childElements(entry, valueName)[0];
    if (key) out[key.textContent] = value ? fromXml(shapes, shape.value, value) : null;
  }
  return out;
}

const escapeXml = (text) => String(text).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function toXml(shapes, ref, value, name) {
  const shape = shapes[ref.shape];
  if (value === undefined || value === null) return "";
  const ns = ref.xmlNamespace || shape.xmlNamespace;
  const nsAttribute = ns ? ` xmlns${ns.prefix ? ":" + ns.prefix : ""}="${escapeXml(ns.uri)}"` : "";
  switch (shape.type) {
    case "structure": {
      let attributes = nsAttribute;
      let body = "";
      for (const [memberName, member] of Object.entries(shape.members || {})) {
        if (member.location || value[memberName] === undefined) continue;
        const key = member.locationName || memberName;
        if (member.xmlAttribute) attributes += ` ${key}="${escapeXml(value[memberName])}"`;
        else body += toXml(shapes, member, value[memberName], key);
      }
      return `<${name}${attributes}>${body}</${name}>`;
    }
    case "list": {
      if (ref.flattened || shape.flattened) {
        return value.map((item) => toXml(shapes, shape.member, item, shape.member.locationName || name)).join("");
      }
      const itemName = shape.member.locationName || "member";
      return `<${name}${nsAttribute}>${value.map((item) => toXml(shapes, shape.member, item, itemName)).join("")}</${name}>`;
    }
    case "map": {
      const keyName = shape.key.locationName || "key";
      const valueName = shape.value.locationName || "value";
      const entries = Object.entries(value)
        .map(([k, v]) => `<entry><${keyName}>${escapeXml(k)}</${keyName}>${toXml(shapes, shape.value, v, valueName)}</entry>`)
        .join("");
      return `<${name}${nsAttribute}>${entries}</${name}>`;
    }
    case "timestamp":
      return `<${name}>${escapeXml(timestamp(value, ref.timestampFormat || shape.timestampFormat || "iso8601"))}</${name}>`;
    case "blob":
      return `<${name}>${b64encode(toBytes(value))}</${name}>`;
    case "boolean":
      return `<${name}>${value ? "true" : "false"}</${name}>`;
    default:
      return `<${name}${nsAttribute}>${escapeXml(value)}</${name}>`;
  }
}

function parseXml(bytes) {
  const text = typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);
  if (!text.trim()) return null;
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return null;
  return doc.documentElement;
}

// -- requests ------------------------------------------------------------------------------------------------

function headerValue(shapes, ref, value) {
  const shape = shapes[ref.shape];
  if (ref.jsonvalue || shape.jsonvalue) return b64encode(toBytes(JSON.stringify(value)));
  if (shape.type === "timestamp") return timestamp(value, ref.timestampFormat || shape.timestampFormat || "rfc822");
  if (shape.type === "list") return value.join(",");
  if (shape.type === "boolean") return value ? "true" : "false";
  return String(value);
}

function restRequest(model, op, input, protocol) {
  const shapes = model.shapes;
  const [template, fixedQuery] = op.http.requestUri.split("?");
  const query = [];
  if (fixedQuery) {
    for (const part of fixedQuery.split("&")) {
      const [k, v] = part.split("=");
      query.push([decodeURIComponent(k), v === undefined ? null : decodeURIComponent(v)]);
    }
  }
  const headers = {};
  const shape = op.input ? shapes[op.input.shape] : { members: {} };
  const members = shape.members || {};
  const byLocation = {};
  for (const [name, member] of Object.entries(members)) {
    if (member.location === "uri") byLocation[member.locationName || name] = name;
  }
  const path = template.replace(/\{([^}+]+)(\+?)\}/g, (_, key, greedy) => {
    const value = String(input[byLocation[key]] ?? "");
    return greedy ? uriEncode(value, true) : uriEncode(value);
  });
  let body = null;
  const bodyValue = {};
  let hasBodyMembers = false;
  for (const [name, member] of Object.entries(members)) {
    const value = input[name];
    if (!member.location && name !== shape.payload) hasBodyMembers = true;
    if (value === undefined || value === null) continue;
    const memberShape = shapes[member.shape];
    const key = member.locationName || name;
    if (member.location === "querystring") {
      if (memberShape.type === "list") value.forEach((item) => query.push([key, String(item)]));
      else if (memberShape.type === "map") {
        for (const [k, v] of Object.entries(value)) (Array.isArray(v) ? v : [v]).forEach((item) => query.push([k, String(item)]));
      } else if (memberShape.type === "timestamp") query.push([key, timestamp(value, member.timestampFormat || "iso8601")]);
      else if (memberShape.type === "boolean") query.push([key, value ? "true" : "false"]);
      else query.push([key, String(value)]);
    } else if (member.location === "header") {
      headers[key.toLowerCase()] = headerValue(shapes, member, value);
    } else if (member.location === "headers") {
      for (const [k, v] of Object.entries(value)) headers[(key + k).toLowerCase()] = String(v);
    } else if (!member.location && name !== shape.payload) {
      bodyValue[name] = value;
    }
  }
  if (shape.payload) {
    const member = members[shape.payload];
    const value = input[shape.payload];
    const memberShape = shapes[member.shape];
    if (value !== undefined && value !== null) {
      if (memberShape.type === "blob" || memberShape.type === "string") {
        body = value;
        if (!headers["content-type"] && memberShape.type === "blob" && protocol === "rest-json") headers["content-type"] = "application/octet-stream";
      } else if (protocol === "rest-json") {
        body = JSON.stringify(toJsonValue(shapes, member, value, "unixTimestamp"));
        headers["content-type"] = "application/json";
      } else {
        body = toXml(shapes, member, value, member.locationName || shape.payload);
        headers["content-type"] = "application/xml";
      }
    }
  } else if (Object.keys(bodyValue).length || (hasBodyMembers && ["POST", "PUT", "PATCH"].includes(op.http.method))) {
    if (protocol === "rest-json") {
      body = JSON.stringify(toJsonValue(shapes, op.input, bodyValue, "unixTimestamp") || {});
      headers["content-type"] = "application/json";
    } else if (Object.keys(bodyValue).length) {
      body = toXml(shapes, op.input, bodyValue, shape.locationName || op.input.shape);
      headers["content-type"] = "application/xml";
    }
  }
  return { method: op.http.method, path, query, headers, body };
}

function rpcRequest(model, op, input, protocol) {
  const meta = model.metadata;
  const shapes = model.shapes;
  if (protocol === "json") {
    const body = JSON.stringify(op.input ? toJsonValue(shapes, op.input, input, "unixTimestamp") || {} : {});
    return {
      method: "POST",
      path: "/",
      query: [],
      headers: {
        "content-type": `application/x-amz-json-${meta.jsonVersion || "1.0"}`,
        "x-amz-target": `${meta.targetPrefix}.${op.name}`,
      },
      body,
    };
  }
  const pairs = [
    ["Action", op.name],
    ["Version", meta.apiVersion],
  ];
  if (op.input) toQuery(shapes, op.input, input, "", pairs, protocol === "ec2");
  return {
    method: "POST",
    path: "/",
    query: [],
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: queryString(pairs),
  };
}

function buildRequest(model, operation, input) {
  const op = model.operations[operation];
  if (!op) throw new AwsError("UnknownOperation", `${model.name} has no operation ${operation}`, 400, model.name, operation);
  const protocol = model.metadata.consoleProtocol;
  if (!protocol) throw new AwsError("UnsupportedProtocol", `the console does not speak ${model.name}'s protocol`, 400, model.name, operation);
  input = withIdempotencyTokens(model, op, input);
  const request = protocol.startsWith("rest-") ? restRequest(model, op, input, protocol) : rpcRequest(model, op, input, protocol);
  if ((op.httpChecksum && op.httpChecksum.requestChecksumRequired) || op.httpChecksumRequired) {
    if (request.body !== null && (typeof request.body === "string" || request.body instanceof Uint8Array)) {
      const crc = crc32(toBytes(request.body));
      request.headers["x-amz-checksum-crc32"] = btoa(String.fromCharCode(crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255));
    }
  }
  request.headers["x-amz-user-agent"] = `overcast-console/${session.version || "dev"}`;
  return { op, protocol, request };
}

/** The input with a fresh token in each idempotency-token member left out, as the SDKs fill them (EC2's
 * ClientToken is required by some operations that clients never ask for). */
function withIdempotencyTokens(model, op, input) {
  const members = op.input ? model.shapes[op.input.shape].members || {} : {};
  const missing = Object.keys(members).filter((name) => members[name].idempotencyToken && input[name] === undefined);
  return missing.length ? { ...input, ...Object.fromEntries(missing.map((name) => [name, uuid4()])) } : input;
}

function uuid4() {
  // getRandomValues, not randomUUID: the console opened by a LAN address is not a secure context
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function signingOf(model) {
  return model.metadata.signingName || model.metadata.endpointPrefix;
}

// -- responses ---------------------------------------------------------------------------------------------

function errorOf(protocol, response, service, operation) {
  const { status, headers, body } = response;
  let code = headers.get("x-amzn-errortype") || "";
  let message = headers.get("x-amzn-error-message") || "";
  const text = new TextDecoder().decode(body);
  if (protocol === "json" || protocol === "rest-json") {
    try {
      const parsed = JSON.parse(text);
      code = parsed.__type || parsed.code || parsed.Code || code;
      message = parsed.message || parsed.Message || parsed.errorMessage || message;
    } catch {
      /* not JSON: the status says it */
    }
  } else {
    const root = parseXml(text);
    if (root) {
      const codeNode = root.getElementsByTagName("Code")[0];
      const messageNode = root.getElementsByTagName("Message")[0];
      if (codeNode) code = codeNode.textContent;
      if (messageNode) message = messageNode.textContent;
    }
  }
  // Services that moved from the query protocol to JSON (SQS) also give the legacy code, which is what
  // botocore reports (awsQueryCompatible): the console reports the same.
  const legacy = headers.get("x-amzn-query-error");
  if (legacy) code = legacy.split(";")[0];
  code = (code || `Http${status}`).split(":")[0].split("#").pop();
  return new AwsError(code, message || `${code} (HTTP ${status})`, status, service, operation);
}

function parseResponse(model, op, protocol, response) {
  const shapes = model.shapes;
  if (!op.output) return {};
  const shape = shapes[op.output.shape];
  if (protocol === "json") {
    const text = new TextDecoder().decode(response.body);
    return text.trim() ? fromJsonValue(shapes, op.output, JSON.parse(text)) : {};
  }
  if (protocol === "query" || protocol === "ec2") {
    const root = parseXml(response.body);
    if (!root) return {};
    const container = protocol === "ec2" ? root : op.output.resultWrapper ? childElements(root, op.output.resultWrapper)[0] : null;
    return container ? fromXml(shapes, op.output, container) : {};
  }
  const out = {};
  for (const [name, member] of Object.entries(shape.members || {})) {
    const memberShape = shapes[member.shape];
    const key = (member.locationName || name).toLowerCase();
    if (member.location === "header") {
      const value = response.headers.get(key);
      if (value === null) continue;
      if (member.jsonvalue || memberShape.jsonvalue) out[name] = JSON.parse(new TextDecoder().decode(b64decode(value)));
      else if (memberShape.type === "list") out[name] = value.split(",").map((v) => v.trim());
      else out[name] = scalarFromText(memberShape, value);
    } else if (member.location === "headers") {
      const values = {};
      response.headers.forEach((value, header) => {
        if (header.startsWith(key)) values[header.slice(key.length)] = value;
      });
      if (Object.keys(values).length) out[name] = values;
    } else if (member.location === "statusCode") {
      out[name] = response.status;
    }
  }
  if (shape.payload) {
    const member = shape.members[shape.payload];
    const memberShape = shapes[member.shape];
    if (memberShape.type === "blob") out[shape.payload] = response.body;
    else if (memberShape.type === "string") out[shape.payload] = new TextDecoder().decode(response.body);
    else if (response.body.length) {
      if (protocol === "rest-json") out[shape.payload] = fromJsonValue(shapes, member, JSON.parse(new TextDecoder().decode(response.body)));
      else {
        const root = parseXml(response.body);
        if (root) out[shape.payload] = fromXml(shapes, member, root);
      }
    }
    return out;
  }
  if (!response.body.length) return out;
  if (protocol === "rest-json") {
    return Object.assign(out, fromJsonValue(shapes, op.output, JSON.parse(new TextDecoder().decode(response.body))));
  }
  const root = parseXml(response.body);
  return root ? Object.assign(out, fromXml(shapes, op.output, root)) : out;
}

// -- sending -----------------------------------------------------------------------------------------------

function urlOf(request) {
  const query = queryString(request.query || []);
  return request.path + (query ? `?${query}` : "");
}

async function send(request, onUploadProgress) {
  if (!onUploadProgress) {
    const response = await fetch(urlOf(request), { method: request.method, headers: request.headers, body: request.body, cache: "no-store" });
    return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(request.method, urlOf(request));
    xhr.responseType = "arraybuffer";
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onUploadProgress(event.loaded, event.total);
    xhr.onerror = () => reject(new AwsError("NetworkError", "the request failed", 0));
    xhr.onload = () => {
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const at = line.indexOf(":");
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      resolve({ status: xhr.status, headers, body: new Uint8Array(xhr.response || new ArrayBuffer(0)) });
    };
    xhr.send(request.body);
  });
}

/** Call `operation` of `service` with `input` (shaped like the boto3 call); resolves to its output. */
export async function call(service, operation, input = {}, options = {}) {
  if (!session.credentials) throw new AwsError("NoCredentials", "enter credentials first", 0, service, operation);
  const model = await loadModel(service);
  const { op, protocol, request } = buildRequest(model, operation, input);
  const region = options.region || session.region;
  const streamingBody = request.body instanceof Blob;
  await signRequest(request, {
    service: signingOf(model),
    region,
    credentials: session.credentials,
    host: location.host,
    unsignedPayload: signingOf(model) === "s3" || streamingBody,
  });
  const started = performance.now();
  const response = await send(request, options.onUploadProgress);
  if (session.onCall) session.onCall(service, operation, response.status, performance.now() - started);
  if (response.status >= 300 && response.status !== 304) throw errorOf(protocol, response, service, operation);
  return parseResponse(model, op, protocol, response);
}

/** A presigned URL for `operation` (S3's GetObject, PutObject), expiring on the virtual clock. */
export async function presign(service, operation, input, expires = 3600) {
  const model = await loadModel(service);
  const { request } = buildRequest(model, operation, input);
  return presignUrl(request, {
    service: signingOf(model),
    region: session.region,
    credentials: session.credentials,
    host: location.host,
    origin: location.origin,
    expires,
    now: new Date(Date.now() + session.clockOffset * 1000),
  });
}

// -- paging ------------------------------------------------------------------------------------------------

function pathValue(value, path) {
  for (const alternative of path.split("||")) {
    let current = value;
    for (const part of alternative.trim().split(".")) {
      const match = part.match(/^([^[]+)(?:\[(-?\d+)\])?$/);
      if (!match || current === undefined || current === null) {
        current = undefined;
        break;
      }
      current = current[match[1]];
      if (match[2] !== undefined && Array.isArray(current)) current = current.at(Number(match[2]));
    }
    if (current !== undefined && current !== null && current !== "") return current;
  }
  return undefined;
}

/** How `operation` pages: {inputTokens, outputTokens, resultKeys, limitKey} or null. */
export async function paginator(service, operation) {
  const model = await loadModel(service);
  const spec = (model.paginators || {})[operation];
  if (!spec) return null;
  const list = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  return { inputTokens: list(spec.input_token), outputTokens: list(spec.output_token), resultKeys: list(spec.result_key), limitKey: spec.limit_key };
}

/** The tokens for the page after `output`, or null when it was the last. */
export function nextPage(pager, output) {
  if (!pager) return null;
  const next = {};
  let any = false;
  pager.inputTokens.forEach((name, i) => {
    const value = pathValue(output, pager.outputTokens[i] || pager.outputTokens[0]);
    if (value !== undefined) {
      next[name] = value;
      any = true;
    }
  });
  if (output.IsTruncated === false) return null;
  return any ? next : null;
}

/** Every page's items of `resultKey` (for counts and small lists), stopping after `maxItems`. */
export async function listAll(service, operation, input = {}, resultKey, maxItems = 5000) {
  const pager = await paginator(service, operation);
  const items = [];
  let params = { ...input };
  for (let page = 0; page < 1000; page++) {
    const output = await call(service, operation, params);
    const key = resultKey || (pager && pager.resultKeys[0]);
    items.push(...(pathValue(output, key) || []));
    const next = nextPage(pager, output);
    if (!next || items.length >= maxItems) break;
    params = { ...input, ...next };
  }
  return items;
}

// -- Overcast's own endpoints ---------------------------------------------------------------------------

export async function internal(path, options = {}) {
  const init = { method: options.method || "GET", headers: {}, cache: "no-store" };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers["content-type"] = "application/json";
  }
  if (session.credentials && init.method !== "GET") init.headers["x-overcast-token"] = session.credentials.secretAccessKey;
  const response = await fetch(path, init);
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: text };
  }
  if (!response.ok) throw new AwsError("Internal", data.error || `HTTP ${response.status}`, response.status);
  return data;
}
