// Runs ELM JSON written by OUR translator (cds/cql/elm) in the reference engine (cql-execution +
// cql-exec-fhir, installed by tests/oracle/install.sh) on fhir-examples cases, printing one JSON
// line per case: {"case": NAME, "orders": {"ServiceRequest/id": {define: value, ...}}} — the
// same encoding as tests/oracle/reference.mjs, so the two are compared define by define.
// Usage: node run_elm.mjs LIBRARY.elm.json INCLUDED.elm.json[,INCLUDED.elm.json...] VALUESETS_DIR NOW
//          QUESTIONNAIRE_URL CASE_DIR...
// (the included libraries — FHIRHelpers, and the policy library for the DTR prepopulation
// library — comma-separated, each registered under its own identifier).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { encode } from "./encode.mjs";

const require = createRequire(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../oracle/package.json"));
const cql = require("cql-execution");
const cqlfhir = require("cql-exec-fhir");

const [, , libraryFile, helpersFile, valuesetsDir, now, questionnaireUrl, ...caseDirs] = process.argv;
const elm = JSON.parse(fs.readFileSync(libraryFile, "utf8"));
const included = {};
for (const file of helpersFile.split(",")) {
  const lib = JSON.parse(fs.readFileSync(file, "utf8"));
  included[lib.library.identifier.id] = lib;
}
const library = new cql.Library(elm, new cql.Repository(included));
const defines = elm.library.statements.def
  .filter((d) => d.type !== "FunctionDef" && (d.accessLevel || "Public") === "Public")
  .map((d) => d.name);

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
const codeService = new cql.CodeService(valueSets);
const fhir = cqlfhir.FHIRWrapper.FHIRv401();

function records(request) {
  const out = [];
  for (const value of Object.values(request.prefetch ?? {})) {
    if (!value) continue;
    if (value.resourceType === "Bundle") for (const e of value.entry ?? []) out.push(e.resource);
    else if (value.resourceType !== "OperationOutcome") out.push(value);
  }
  return out;
}

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
    const executor = new cql.Executor(library, codeService, parameters);
    const results = await executor.exec(source, cql.DateTime.parse(now));
    const patientResults = Object.values(results.patientResults)[0];
    const values = {};
    for (const name of defines) values[name] = encode(patientResults[name]);
    result[`ServiceRequest/${order.id}`] = values;
  }
  console.log(JSON.stringify({ case: path.basename(dir), orders: result }));
}
