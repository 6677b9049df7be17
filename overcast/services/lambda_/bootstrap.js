// Overcast's Node.js runtime: loads the function's handler and serves it over the Lambda Runtime API
// (AWS_LAMBDA_RUNTIME_API), one invocation at a time, with console output in Lambda's log format.
"use strict";
const http = require("http");
const path = require("path");
const fs = require("fs");
const util = require("util");
const { pathToFileURL } = require("url");

const [apiHost, apiPort] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
let currentRequestId = "";

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: apiHost, port: apiPort, method, path: "/2018-06-01/runtime/" + urlPath, agent, headers: headers || {} },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      }
    );
    request.setNoDelay(true);
    request.on("error", reject);
    request.end(body);
  });
}

function logLine(level) {
  return (...args) => {
    const text = util.format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text}\n`);
  };
}
console.log = console.info = logLine("INFO");
console.warn = logLine("WARN");
console.error = logLine("ERROR");
console.debug = logLine("DEBUG");
console.trace = logLine("TRACE");

function errorPayload(error, type) {
  if (!(error instanceof Error)) {
    return { errorType: type || "string", errorMessage: typeof error === "string" ? error : JSON.stringify(error), trace: [] };
  }
  return { errorType: type || error.name || "Error", errorMessage: error.message, trace: String(error.stack || "").split("\n") };
}

class RuntimeError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

async function loadHandler() {
  const spec = process.env._HANDLER || "";
  const dot = spec.lastIndexOf(".");
  if (dot < 0) throw new RuntimeError("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  const modulePath = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const base = path.resolve(taskRoot, modulePath);
  let loaded;
  try {
    if (fs.existsSync(base + ".mjs")) {
      loaded = await import(pathToFileURL(base + ".mjs").href);
    } else if (fs.existsSync(base + ".cjs")) {
      loaded = require(base + ".cjs");
    } else if (fs.existsSync(base + ".js")) {
      try {
        loaded = require(base + ".js");
      } catch (error) {
        if (error.code !== "ERR_REQUIRE_ESM") throw error;
        loaded = await import(pathToFileURL(base + ".js").href);
      }
    } else {
      throw new RuntimeError("Runtime.ImportModuleError", `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${__filename}`);
    }
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    if (error instanceof SyntaxError) throw new RuntimeError("Runtime.UserCodeSyntaxError", `${error.name}: ${error.message}`);
    throw error;
  }
  const handler = name.split(".").reduce((value, key) => (value == null ? undefined : value[key]), loaded);
  if (typeof handler !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${spec} is undefined or not exported`);
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const clientContext = headers["lambda-runtime-client-context"];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function runHandler(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    const payload = errorPayload(error, error instanceof RuntimeError ? error.name : undefined);
    logLine("ERROR")(JSON.stringify(payload));
    await call("POST", "init/error", JSON.stringify(payload), { "Lambda-Runtime-Function-Error-Type": payload.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "invocation/next");
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : null;
      const result = await runHandler(handler, event, context(next.headers));
      const body = result === undefined ? "null" : JSON.stringify(result);
      await call("POST", `invocation/${requestId}/response`, body);
    } catch (error) {
      const payload = errorPayload(error);
      logLine("ERROR")(`Invoke Error \t${JSON.stringify(payload)}`);
      await call("POST", `invocation/${requestId}/error`, JSON.stringify(payload), {
        "Lambda-Runtime-Function-Error-Type": payload.errorType,
      });
    }
  }
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
