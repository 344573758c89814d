// The reference CQL toolchain as the test scripts use it: the translator (@cqframework/cql), the
// engine (cql-execution + cql-exec-fhir), all installed here by install.sh. Imported by
// reference.mjs, reference_phrases.mjs (this folder) and tests/cql/elm/run_elm.mjs and
// run_conformance.mjs (run_elm.mjs also runs the DTR prepopulation library for tests/dtr).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
global.require = require; // kotlinx-io (inside the translator) needs a global require under ESM
export { require };
export const cql = require("cql-execution");
export const cqlfhir = require("cql-exec-fhir");

let modules = null;

// The translator's modules ({NamespaceManager, ModelManager, LibraryManager, CqlTranslator,
// createUcumService, ...}), loaded on first use (run_elm.mjs runs ELM and never translates).
export async function translatorModules() {
  if (!modules) {
    const { NamespaceManager } = await import("@cqframework/cql/cql");
    modules = { NamespaceManager, ...(await import("@cqframework/cql/cql-to-elm")) };
  }
  return modules;
}

// A UCUM service for the translator (ucum-lhc, pinned beside it): it validates units and converts
// them; the arithmetic at translation time is not needed by the tests (it throws).
function ucumService(createUcumService) {
  const ucum = require("@lhncbc/ucum-lhc").UcumLhcUtils.getInstance();
  const unsupported = () => { throw new Error("UCUM arithmetic at translation time is not supported here"); };
  return createUcumService(
    (value, from, to) => {
      const r = ucum.convertUnitTo(from, Number(value), to);
      if (r.status !== "succeeded") throw new Error(`cannot convert ${from} to ${to}`);
      return String(r.toVal);
    },
    (unit) => (ucum.validateUnitString(unit).status === "valid" ? null : `invalid UCUM unit ${unit}`),
    unsupported,
    unsupported,
  );
}

// A function translating CQL text: {elm, errors} (the ELM JSON as an object, null when the
// translator reported errors; their messages). Models from modelsDir; included libraries from
// librariesDir (if given); units checked by the UCUM service (if ucum).
// `enable` names translator options to turn on that its defaults disable: "ListPromotion",
// "ListDemotion" (DisableListPromotion and DisableListDemotion are among its default options).
export async function makeTranslator(modelsDir, { librariesDir = null, ucum = false, enable = [] } = {}) {
  const m = await translatorModules();
  const modelManager = new m.ModelManager(new m.NamespaceManager());
  modelManager.modelInfoLoader.registerModelInfoProvider(new m.DefaultModelInfoProvider(m.stringAsPath(modelsDir)));
  let compilerOptions;
  if (enable.length) {
    compilerOptions = m.CqlCompilerOptions.defaultOptions();
    const drop = new Set(enable.map((name) => `Disable${name}`));
    const view = compilerOptions.options.asJsSetView();
    for (const option of Array.from(view)) if (drop.has(option.name)) view.delete(option);
  }
  const libraryManager = ucum
    ? new m.LibraryManager(modelManager, compilerOptions, undefined, ucumService(m.createUcumService))
    : new m.LibraryManager(modelManager, compilerOptions);
  if (librariesDir) {
    libraryManager.librarySourceLoader.registerProvider(new m.DefaultLibrarySourceProvider(m.stringAsPath(librariesDir)));
  }
  return (text) => {
    const translator = m.CqlTranslator.fromText(text, libraryManager);
    const errors = Array.from(translator.errors.asJsReadonlyArrayView()).map((e) => e.message);
    return { errors, elm: errors.length ? null : JSON.parse(translator.toJson()) };
  };
}

// The ELM of a CQL file; on translation errors, says them on stderr and exits with status 2.
export function translateFileOrExit(translate, file, name = file) {
  const { elm, errors } = translate(fs.readFileSync(file, "utf8"));
  if (errors.length) {
    console.error(`${name}: ${errors.join("; ")}`);
    process.exit(2);
  }
  return elm;
}

// The names of a library's public expression definitions (not functions), less `except`.
export function publicDefines(elm, except = []) {
  return elm.library.statements.def
    .filter((d) => d.type !== "FunctionDef" && (d.accessLevel || "Public") === "Public" && !except.includes(d.name))
    .map((d) => d.name);
}

// A code service holding every value set (compose.include concepts and expansion.contains) of
// the JSON files in valuesetsDir.
export function codeService(valuesetsDir) {
  const valueSets = {};
  for (const file of fs.readdirSync(valuesetsDir).filter((f) => f.endsWith(".json"))) {
    const vs = JSON.parse(fs.readFileSync(path.join(valuesetsDir, file), "utf8"));
    const codes = [];
    for (const inc of vs.compose?.include ?? []) {
      for (const c of inc.concept ?? []) codes.push({ code: c.code, system: inc.system, version: inc.version });
    }
    for (const c of vs.expansion?.contains ?? []) codes.push({ code: c.code, system: c.system, version: c.version });
    valueSets[vs.url] = { [vs.version ?? ""]: codes };
  }
  return new cql.CodeService(valueSets);
}

// A value in the JSON encoding of `dli-cds cql run`: resources as "Type/id", FHIR primitives by
// their value, CQL types by their fields.
export function encode(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value !== "object") return value;
  if (value._json !== undefined) {
    const json = value._json;
    if (json && typeof json === "object" && json.resourceType) return `${json.resourceType}/${json.id}`;
    // A FHIR primitive element is compared by its value.
    if (json && typeof json === "object" && Object.keys(json).length === 1 && "value" in json) return json.value;
    return json;
  }
  if (value.isDateTime || value.isDate || value.isTime) return value.toString();
  if (value.isQuantity) return { value: value.value, unit: value.unit };
  if (value.isRatio) return { numerator: encode(value.numerator), denominator: encode(value.denominator) };
  if (value.isInterval) {
    return { low: encode(value.low), high: encode(value.high), lowClosed: value.lowClosed, highClosed: value.highClosed };
  }
  if (value.isCode) {
    const out = { system: value.system, code: value.code };
    if (value.display) out.display = value.display;
    return out;
  }
  if (value.isConcept) return { codes: value.codes.map(encode) };
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = encode(v);
  return out;
}

// The resources of a CDS Hooks request's prefetch (Bundles unpacked, OperationOutcomes left out).
function records(request) {
  const out = [];
  for (const value of Object.values(request.prefetch ?? {})) {
    if (!value) continue;
    if (value.resourceType === "Bundle") for (const e of value.entry ?? []) out.push(e.resource);
    else if (value.resourceType !== "OperationOutcome") out.push(value);
  }
  return out;
}

// Runs `library` on each fhir-examples case folder (its request.json), once per draft
// ServiceRequest as the Order (the policy's parameters), and prints one JSON line per case:
//   {"case": NAME, "orders": {"ServiceRequest/id": {define: value, ...}}}
export async function printCases(library, defines, codes, now, questionnaireUrl, caseDirs) {
  const fhir = cqlfhir.FHIRWrapper.FHIRv401();
  for (const dir of caseDirs) {
    const request = JSON.parse(fs.readFileSync(path.join(dir, "request.json"), "utf8"));
    const resources = records(request);
    const orders = (request.context.draftOrders.entry ?? []).map((e) => e.resource).filter((r) => r.resourceType === "ServiceRequest");
    const result = {};
    for (const order of orders) {
      const source = cqlfhir.PatientSource.FHIRv401();
      source.loadBundles([{ resourceType: "Bundle", type: "collection", entry: resources.map((r) => ({ resource: r })) }]);
      const parameters = {
        Order: fhir.wrap(order),
        "Draft Orders": orders.map((o) => fhir.wrap(o)),
        "Questionnaire URL": questionnaireUrl,
      };
      const executor = new cql.Executor(library, codes, parameters);
      const results = await executor.exec(source, cql.DateTime.parse(now));
      const patientResults = Object.values(results.patientResults)[0];
      const values = {};
      for (const name of defines) values[name] = encode(patientResults[name]);
      result[`ServiceRequest/${order.id}`] = values;
    }
    console.log(JSON.stringify({ case: path.basename(dir), orders: result }));
  }
}
