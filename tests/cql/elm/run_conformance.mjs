// Runs conformance-suite libraries in the reference engine (cql-execution), each with a "Result"
// and an "Expected" define, and prints one JSON line per test: {"id", "status", "detail"} with
// status "pass", "fail" or "error". Input: a JSON-lines file of {"id", "invalid", "elm"} (ELM we
// wrote; "elm" null with "error" when our translator refused the test) or, with --translate,
// {"id", "invalid", "cql"} translated here by the reference translator (@cqframework/cql).
// A test marked invalid passes when translation or evaluation fails.
// Usage: node run_conformance.mjs [--translate MODELS_DIR] CASES.jsonl
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../oracle/package.json"));
global.require = require;
const cql = require("cql-execution");
const { equals } = require("cql-execution/lib/util/comparison");

const args = process.argv.slice(2);
const translateMode = args[0] === "--translate";
const file = translateMode ? args[2] : args[0];
let translate = null;
if (translateMode) {
  const { NamespaceManager } = await import(require.resolve("@cqframework/cql/cql"));
  const { DefaultModelInfoProvider, stringAsPath, ModelManager, LibraryManager, CqlTranslator, createUcumService } =
    await import(require.resolve("@cqframework/cql/cql-to-elm"));
  const modelManager = new ModelManager(new NamespaceManager());
  modelManager.modelInfoLoader.registerModelInfoProvider(new DefaultModelInfoProvider(stringAsPath(args[1])));
  // The translator validates units with a UCUM service (ucum-lhc, pinned beside it); conversions
  // at translation time are not needed by the suite.
  const ucum = require("@lhncbc/ucum-lhc").UcumLhcUtils.getInstance();
  const unsupported = () => { throw new Error("UCUM arithmetic at translation time is not supported here"); };
  const ucumService = createUcumService(
    (value, from, to) => {
      const r = ucum.convertUnitTo(from, Number(value), to);
      if (r.status !== "succeeded") throw new Error(`cannot convert ${from} to ${to}`);
      return String(r.toVal);
    },
    (unit) => (ucum.validateUnitString(unit).status === "valid" ? null : `invalid UCUM unit ${unit}`),
    unsupported,
    unsupported,
  );
  const libraryManager = new LibraryManager(modelManager, undefined, undefined, ucumService);
  translate = (text) => {
    const translator = CqlTranslator.fromText(text, libraryManager);
    const errors = Array.from(translator.errors.asJsReadonlyArrayView());
    if (errors.length) throw new Error(errors.map((e) => e.message).join("; "));
    return JSON.parse(translator.toJson());
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
