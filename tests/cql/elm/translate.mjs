// The reference translator (@cqframework/cql, installed by tests/oracle/install.sh): translates
// CQL libraries to ELM JSON, one JSON line per library: {"file": PATH, "elm": ..., "errors": [...]}.
// Used to compare our ELM writer's output with the reference shapes (tests only).
// Usage: node translate.mjs [--list-promotion] [--list-demotion] MODELS_DIR LIBRARIES_DIR LIB.cql...
// The options are the translator's own (off by default there: DisableListPromotion and
// DisableListDemotion are among its default options; a flag removes the Disable option).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const oracle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../oracle/package.json");
const require = createRequire(oracle);
global.require = require;
const { NamespaceManager } = await import(require.resolve("@cqframework/cql/cql"));
const { DefaultModelInfoProvider, DefaultLibrarySourceProvider, stringAsPath, ModelManager, LibraryManager, CqlTranslator, CqlCompilerOptions, createUcumService } =
  await import(require.resolve("@cqframework/cql/cql-to-elm"));
const ucum = require("@lhncbc/ucum-lhc").UcumLhcUtils.getInstance();
const unsupported = () => { throw new Error("UCUM arithmetic at translation time is not supported here"); };
const ucumService = createUcumService(
  (value, from, to) => String(ucum.convertUnitTo(from, Number(value), to).toVal),
  (unit) => (ucum.validateUnitString(unit).status === "valid" ? null : `invalid UCUM unit ${unit}`),
  unsupported,
  unsupported,
);

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith("--")));
const [modelsDir, librariesDir, ...files] = args.filter((a) => !a.startsWith("--"));
let compilerOptions;
if (flags.size) {
  compilerOptions = CqlCompilerOptions.defaultOptions();
  const drop = new Set();
  if (flags.has("--list-promotion")) drop.add("DisableListPromotion");
  if (flags.has("--list-demotion")) drop.add("DisableListDemotion");
  const view = compilerOptions.options.asJsSetView();
  for (const option of Array.from(view)) if (drop.has(option.name)) view.delete(option);
}
const modelManager = new ModelManager(new NamespaceManager());
modelManager.modelInfoLoader.registerModelInfoProvider(new DefaultModelInfoProvider(stringAsPath(modelsDir)));
const libraryManager = new LibraryManager(modelManager, compilerOptions, undefined, ucumService);
libraryManager.librarySourceLoader.registerProvider(new DefaultLibrarySourceProvider(stringAsPath(librariesDir)));
for (const file of files) {
  const translator = CqlTranslator.fromText(fs.readFileSync(file, "utf8"), libraryManager);
  const errors = Array.from(translator.errors.asJsReadonlyArrayView()).map((e) => e.message);
  console.log(JSON.stringify({ file, errors, elm: errors.length ? null : JSON.parse(translator.toJson()) }));
}
