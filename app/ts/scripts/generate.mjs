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
// Codama names a PDA helper after the first account that uses it and renames any other seeds
// under that name: the IDL's resolution defaults (xtask/src/links.rs: a wallet's first position,
// the two sides of a liquidation) would take `findPositionPda`'s name from open_position's. The
// generated client keeps the program's own PDAs (those its creating instructions derive) and
// defaults only accounts whose seeds are one of them; the ATA defaults stay (another program's).
const creators = ['init_market', 'add_reserve', 'open_position'];
const ownSeeds = new Set(
  idl.instructions
    .filter((ix) => creators.includes(ix.name))
    .flatMap((ix) => ix.accounts.filter((a) => a.pda && !a.pda.program).map((a) => JSON.stringify(a.pda.seeds))),
);
const forCodama = structuredClone(idl);
for (const account of forCodama.instructions.flatMap((ix) => ix.accounts)) {
  if (account.pda && !account.pda.program && !ownSeeds.has(JSON.stringify(account.pda.seeds))) delete account.pda;
}
await visit(rootNodeFromAnchor(forCodama), renderVisitor(target));
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
