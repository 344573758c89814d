// Times the reference JS engine (cql-execution + cql-exec-fhir) on the benchmark record:
// translation once, then N evaluations of the whole library; prints JSON timings.
// Usage: node reference_engine.mjs MODELS_DIR LIBRARIES_DIR LIBRARY.cql VALUESETS_DIR RECORD.json N
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
global.require = require;
import fs from "node:fs";
import path from "node:path";
const oracle = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../tests/oracle/node_modules");
const req = createRequire(oracle + "/");
const cql = req("cql-execution");
const cqlfhir = req("cql-exec-fhir");
const { NamespaceManager } = await import(oracle + "/@cqframework/cql/cql.mjs");
const { DefaultModelInfoProvider, DefaultLibrarySourceProvider, stringAsPath, ModelManager, LibraryManager, CqlTranslator } =
  await import(oracle + "/@cqframework/cql/cql-to-elm.mjs");

const [, , modelsDir, librariesDir, libraryFile, valuesetsDir, recordFile, n] = process.argv;
const t0 = performance.now();
const mm = new ModelManager(new NamespaceManager());
mm.modelInfoLoader.registerModelInfoProvider(new DefaultModelInfoProvider(stringAsPath(modelsDir)));
const lm = new LibraryManager(mm);
lm.librarySourceLoader.registerProvider(new DefaultLibrarySourceProvider(stringAsPath(librariesDir)));
const elm = JSON.parse(CqlTranslator.fromText(fs.readFileSync(libraryFile, "utf8"), lm).toJson());
const helpers = JSON.parse(CqlTranslator.fromText(fs.readFileSync(path.join(librariesDir, "FHIRHelpers-4.0.1.cql"), "utf8"), lm).toJson());
const library = new cql.Library(elm, new cql.Repository({ FHIRHelpers: helpers }));
const translateMs = performance.now() - t0;
const vs = {};
for (const f of fs.readdirSync(valuesetsDir).filter((x) => x.endsWith(".json"))) {
  const v = JSON.parse(fs.readFileSync(path.join(valuesetsDir, f), "utf8"));
  vs[v.url] = { [v.version ?? ""]: (v.compose?.include ?? []).flatMap((i) => (i.concept ?? []).map((c) => ({ code: c.code, system: i.system }))) };
}
const codeService = new cql.CodeService(vs);
const wrap = cqlfhir.FHIRWrapper.FHIRv401();
const { resources, orders } = JSON.parse(fs.readFileSync(recordFile, "utf8"));
const now = cql.DateTime.parse("2026-11-24T10:00:00.000+00:00");
async function once() {
  const source = cqlfhir.PatientSource.FHIRv401();
  source.loadBundles([{ resourceType: "Bundle", type: "collection", entry: resources.map((r) => ({ resource: r })) }]);
  const params = { Order: wrap.wrap(orders[0]), "Draft Orders": orders.map((o) => wrap.wrap(o)), "Questionnaire URL": "http://localhost:8080/fhir/Questionnaire/dli-cp-mp-101" };
  const results = await new cql.Executor(library, codeService, params).exec(source, now);
  return Object.values(results.patientResults)[0].Outcome;
}
for (let i = 0; i < 20; i++) await once(); // warm-up
const times = [];
let outcome;
for (let i = 0; i < Number(n); i++) { const s = performance.now(); outcome = await once(); times.push(performance.now() - s); }
times.sort((a, b) => a - b);
console.log(JSON.stringify({ translate_ms: translateMs, median_ms: times[Math.floor(times.length / 2)], p90_ms: times[Math.floor(times.length * 0.9)], outcome }));
