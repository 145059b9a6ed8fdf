// Generates the TypeScript client (src/generated/) from the committed IDL with Codama: the
// Anchor importer turns idl/ballast.json into Codama nodes, the JS renderer writes @solana/kit
// code. `--check` renders into a scratch folder and fails when src/generated differs: the test
// command runs it, so a changed IDL without a regenerated client fails.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';
import { visit } from '@codama/visitors-core';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const idl = JSON.parse(readFileSync(join(pkg, '../../idl/ballast.json'), 'utf8'));
const check = process.argv.includes('--check');
const committed = join(pkg, 'src/generated');
const scratch = check ? mkdtempSync(join(tmpdir(), 'ballast-client-')) : null;
// The renderer empties the folder it is given before writing into it: only ever src/generated.
const target = scratch ? join(scratch, 'generated') : committed;
await visit(rootNodeFromAnchor(idl), renderVisitor(target));
// Error names and messages by code ("InsufficientCollateral: ..."): the renderer keeps the
// names in comments only, and its messages are left out of production bundles.
const entries = idl.errors
  .map((e) => `  ${e.code}: { name: ${JSON.stringify(e.name)}, message: ${JSON.stringify(e.msg ?? '')} },`)
  .join('\n');
writeFileSync(
  join(target, 'errorNames.ts'),
  `/** Ballast errors by code, from idl/ballast.json (written by scripts/generate.mjs). */\n` +
    `export const BALLAST_ERRORS: Readonly<Record<number, { name: string; message: string }>> = {\n${entries}\n};\n`,
);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}
const listed = (dir) => files(dir).map((f) => relative(dir, f)).sort();

if (!check) {
  console.error(`generated ${listed(committed).length} files into app/ts/src/generated`);
} else {
  let before = [];
  try {
    before = listed(committed);
  } catch {
    // nothing generated yet
  }
  const fresh = listed(target);
  const read = (dir, f) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return null;
    }
  };
  const stale = [...new Set([...fresh, ...before])].filter((f) => read(target, f) !== read(committed, f));
  rmSync(scratch, { recursive: true, force: true });
  if (stale.length > 0) {
    console.error(
      `app/ts/src/generated is stale against idl/ballast.json (${stale.length} files differ, e.g. ` +
        `${stale.slice(0, 3).join(', ')}): run \`npm run generate -w app/ts\``,
    );
    process.exit(1);
  }
  console.error(`app/ts/src/generated matches idl/ballast.json (${fresh.length} files)`);
}
