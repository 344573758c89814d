// Runs conformance-suite libraries in the reference engine (cql-execution), each with a "Result"
// and an "Expected" define, and prints one JSON line per test: {"id", "status", "detail"} with
// status "pass", "fail" or "error". Input: a JSON-lines file of {"id", "invalid", "elm"} (ELM we
// wrote; "elm" null with "error" when our translator refused the test) or, with --translate,
// {"id", "invalid", "cql"} translated here by the reference translator (@cqframework/cql).
// A test marked invalid passes when translation or evaluation fails.
// Usage: node run_conformance.mjs [--translate MODELS_DIR] CASES.jsonl
import fs from "node:fs";
import { cql, makeTranslator, require } from "../../oracle/cql_runtime.mjs";

const { equals } = require("cql-execution/lib/util/comparison");

const args = process.argv.slice(2);
const translateMode = args[0] === "--translate";
const file = translateMode ? args[2] : args[0];
let translate = null;
if (translateMode) {
  const translator = await makeTranslator(args[1], { ucum: true });
  translate = (text) => {
    const { elm, errors } = translator(text);
    if (errors.length) throw new Error(errors.join("; "));
    return elm;
  };
}

function encode(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value !== "object") return value;
  if (value.isDateTime || value.isDate || value.isTime) return value.toString();
  if (value.isQuantity) return { value: value.value, unit: value.unit };
  if (value.isInterval) return { low: encode(value.low), high: encode(value.high), lowClosed: value.lowClosed, highClosed: value.highClosed };
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = encode(v);
  return out;
}

const now = cql.DateTime.parse("2026-01-15T12:00:00.000+00:00");
for (const line of fs.readFileSync(file, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const test = JSON.parse(line);
  const invalid = test.invalid !== "false";
  let status, detail = "";
  try {
    const elm = translateMode ? translate(test.cql) : test.elm;
    if (!elm) throw new Error(`not translated: ${test.error}`);
    const library = new cql.Library(elm);
    const executor = new cql.Executor(library, new cql.CodeService({}), {});
    const results = (await executor.exec(new cql.PatientSource([]), now)).unfilteredResults;
    const result = results.Result;
    const expected = results.Expected;
    if (invalid) {
      status = "fail";
      detail = `expected an error, got ${JSON.stringify(encode(result))}`;
    } else if ((result == null && expected == null) || equals(result, expected) === true ||
               JSON.stringify(encode(result)) === JSON.stringify(encode(expected))) {
      status = "pass";
    } else {
      status = "fail";
      detail = `${JSON.stringify(encode(result))} != ${JSON.stringify(encode(expected))}`;
    }
  } catch (e) {
    status = invalid ? "pass" : "error";
    detail = String(e.message ?? e).slice(0, 300);
  }
  console.log(JSON.stringify({ id: test.id, status, detail }));
}
