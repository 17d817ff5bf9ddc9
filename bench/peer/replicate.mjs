// PouchDB -> pouchdb-server, the peer of our push (bench/peer.py runs this; see SPEC §7).
//
//   node bench/peer/replicate.mjs MODULES URL DOCS RUNS BATCH
//
// MODULES: the folder holding node_modules (bench/.peer); URL: pouchdb-server's address; DOCS: a
// JSON file of documents. Each run copies the documents into a fresh local PouchDB in memory
// (untimed), makes a fresh database on the server (untimed), then times one replication of them
// to it in batches of BATCH. The first run warms up and is not counted. Prints one line of JSON:
// {"ms": [one per counted run], "docs_written": [...], "doc_count": [...]}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";

const [modules, url, docsPath, runsArg, batchArg] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "package.json"));
const PouchDB = require("pouchdb-node");
PouchDB.plugin(require("pouchdb-adapter-memory"));

const docs = JSON.parse(readFileSync(docsPath, "utf8"));
const runs = Number(runsArg);
const batch = Number(batchArg);
const result = { ms: [], docs_written: [], doc_count: [] };

for (let run = 0; run <= runs; run += 1) {
  const source = new PouchDB(`source-${run}`, { adapter: "memory" });
  await source.bulkDocs(docs.map((doc) => ({ ...doc })));
  const target = new PouchDB(`${url}/bench_${process.pid}_${run}`);
  await target.info(); // creates the database on the server
  const started = performance.now();
  const replication = await PouchDB.replicate(source, target, { batch_size: batch });
  const elapsed = performance.now() - started;
  const { doc_count: docCount } = await target.info();
  if (replication.docs_written !== docs.length || docCount !== docs.length) {
    throw new Error(`run ${run}: wrote ${replication.docs_written}, server holds ${docCount}`);
  }
  if (run > 0) {
    result.ms.push(elapsed);
    result.docs_written.push(replication.docs_written);
    result.doc_count.push(docCount);
  }
  await source.destroy();
}
console.log(JSON.stringify(result));
