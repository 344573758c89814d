// The differential oracle's reference side: translate a CQL library with the reference
// translator (@cqframework/cql) and run it with the reference engine (cql-execution +
// cql-exec-fhir) on fhir-examples cases, printing one JSON line per case:
//   {"case": NAME, "orders": {"ServiceRequest/id": {define: value, ...}}}
// Values use the same JSON encoding as `dli-cds cql run`.
// Usage: node reference.mjs MODELS_DIR LIBRARIES_DIR LIBRARY.cql VALUESETS_DIR NOW QUESTIONNAIRE_URL CASE_DIR...
import path from "node:path";
import { codeService, cql, makeTranslator, printCases, publicDefines, translateFileOrExit } from "./cql_runtime.mjs";

const [, , modelsDir, librariesDir, libraryFile, valuesetsDir, now, questionnaireUrl, ...caseDirs] = process.argv;

const translate = await makeTranslator(modelsDir, { librariesDir });
const elm = translateFileOrExit(translate, libraryFile);
const helpers = translateFileOrExit(translate, path.join(librariesDir, "FHIRHelpers-4.0.1.cql"), "FHIRHelpers");
const library = new cql.Library(elm, new cql.Repository({ FHIRHelpers: helpers }));
await printCases(library, publicDefines(elm), codeService(valuesetsDir), now, questionnaireUrl, caseDirs);
