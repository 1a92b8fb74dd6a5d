// Fails when the console's first load is too heavy: the entry chunk and every chunk it imports statically
// (what the browser fetches before any page shows), gzipped, must stay within the budget, and the charts
// library must be in none of them (only in the lazy page chunks that draw charts).
// Reads the build's manifest (vite.config.ts: build.manifest), so run it after `vite build`.
// Usage: node scripts/checkBundle.mjs [dist] [budget in kB]

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = process.argv[2] ?? "dist";
const budgetKb = Number(process.argv[3] ?? 150);
const manifestPath = join(dist, ".vite", "manifest.json");

let manifest;
try {
  manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
} catch (err) {
  console.error(`checkBundle: cannot read ${manifestPath} (run \`vite build\` first): ${err.message}`);
  process.exit(2);
}

const entries = Object.keys(manifest).filter((key) => manifest[key].isEntry);
if (entries.length === 0) {
  console.error(`checkBundle: ${manifestPath} names no entry chunk`);
  process.exit(2);
}

// The initial chunks: the entries and their static imports, transitively (dynamic imports are lazy).
const initial = new Set();
const walk = (key) => {
  if (initial.has(key)) return;
  initial.add(key);
  for (const next of manifest[key].imports ?? []) walk(next);
};
entries.forEach(walk);

const KB = 1000;
let jsBytes = 0;
let cssBytes = 0;
const problems = [];
const rows = [];
for (const key of initial) {
  const chunk = manifest[key];
  const code = readFileSync(join(dist, chunk.file));
  const gz = gzipSync(code, { level: 9 }).length;
  jsBytes += gz;
  rows.push(`  ${chunk.file}  ${(gz / KB).toFixed(1)} kB gzipped`);
  if (code.includes("recharts")) problems.push(`${chunk.file} (initial) holds recharts: charts belong in lazy chunks`);
  for (const css of chunk.css ?? []) cssBytes += gzipSync(readFileSync(join(dist, css)), { level: 9 }).length;
}
const lazy = Object.keys(manifest).filter((key) => !initial.has(key) && manifest[key].file.endsWith(".js")).length;

console.log(`initial JS: ${initial.size} chunks, ${(jsBytes / KB).toFixed(1)} kB gzipped (budget ${budgetKb} kB)`);
console.log(rows.join("\n"));
console.log(`initial CSS: ${(cssBytes / KB).toFixed(1)} kB gzipped; lazy JS chunks: ${lazy}`);
if (jsBytes > budgetKb * KB) problems.push(`initial JS is ${(jsBytes / KB).toFixed(1)} kB gzipped, over the ${budgetKb} kB budget`);
if (problems.length) {
  console.error(problems.map((p) => `checkBundle: ${p}`).join("\n"));
  process.exit(1);
}
