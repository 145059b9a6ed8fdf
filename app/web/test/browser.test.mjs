// The web app in a real browser (Debian's Chromium, driven by puppeteer-core) against a local
// validator with the programs loaded: a test wallet registered through the Wallet Standard
// (signing in this process with a local keypair) connects, deposits (which opens the position),
// borrows, sees the health factor fall when the price writer lowers SOL, is refused a borrow by
// name, repays and withdraws. The health figures it shows equal the Rust CLI's for the same
// position, and so do the amounts it says may be borrowed or withdrawn. A new user's first hour
// (issue 25): assets named by their mints' metadata without `labels=`, the health factor's colour
// scale, a stale price said in the same words in both tables without widening the page, an old
// error cleared by Refresh, the bare URL trying the local validator and saying how to pass
// `?rpc=`, a wrong market address named for what it is, a token program's refusal in words and
// `repay all` short of the interest said by how much. Screenshots go to target/web/.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const work = join(root, 'target/web');
const ledger = join(work, 'ledger');
const shots = join(work, 'screenshots');
const cli = join(root, 'target/debug/ballast');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
async function freeBlock(size) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 30_000 + ((process.pid * 131 + attempt * 97) % 25_000);
    let ok = true;
    for (let p = base; p < base + size && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free block of ports on 127.0.0.1');
}

const ctx = {};
const ballast = (who, args) => {
  const out = execFileSync(cli, ['-u', ctx.url, '-k', join(work, `${who}.json`), '--output', 'json', ...(ctx.market ? ['--market', ctx.market] : []), ...args], {
    encoding: 'utf8',
    env: { ...process.env, RUST_LOG: 'error' },
  });
  const value = JSON.parse(out);
  if (value.error) throw new Error(`ballast ${args.join(' ')}: ${value.error}`);
  return value;
};
const feed = (n) => n.toString(16).padStart(2, '0').repeat(32);
const postPrices = (sol) => {
  for (const [n, price] of [[2, 1], [3, 250], [1, sol]]) ballast('admin', ['oracle', 'post', '--feed', feed(n), '--price', String(price)]);
};

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const port = await freeBlock(61);
  execFileSync('bash', [join(root, 'scripts/localnet/validator.sh'), 'start', ledger, String(port)], { stdio: 'inherit' });
  ctx.url = `http://127.0.0.1:${port}`;
  ctx.pubkey = {};
  for (const who of ['admin', 'user']) {
    ctx.pubkey[who] = ballast(who, ['keygen', join(work, `${who}.json`)]).pubkey;
    ballast(who, ['airdrop', '10']);
  }
  const report = ballast('admin', ['market', 'bootstrap', '--config', join(root, 'migrations/localnet.toml')]);
  ctx.market = report.market;
  ctx.mints = Object.fromEntries(report.reserves.map((r) => [r.name, r.mint]));
  ctx.reserves = Object.fromEntries(report.reserves.map((r) => [r.name, r.reserve]));
  ballast('admin', ['token', 'mint', ctx.mints.SOL, '10', '--to', ctx.pubkey.user]);
  ballast('admin', ['token', 'mint', ctx.mints.USDC, '10000']);
  postPrices(100);
  ballast('admin', ['deposit', ctx.mints.USDC, '10000']);

  // The web app, built and served on loopback.
  const web = join(root, 'app/web');
  execFileSync(join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
  const webPort = await freeBlock(1);
  ctx.server = spawn(join(root, 'node_modules/.bin/vite'), ['preview', '--port', String(webPort)], { cwd: web, stdio: 'ignore' });
  for (let i = 0; i < 100 && (await portFree(webPort)); i++) await new Promise((r) => setTimeout(r, 100));
  ctx.web = `http://127.0.0.1:${webPort}`;
  // As root, and on a machine whose network is closed: no sandbox, and none of Chromium's
  // background connections (refused here, and slow to fail).
  ctx.browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: join(work, 'chromium-profile'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await ctx.browser?.close();
  ctx.server?.kill();
  try {
    execFileSync('bash', [join(root, 'scripts/localnet/validator.sh'), 'stop', ledger], { stdio: 'inherit' });
  } catch {}
});

/** The test wallet, registered in the page through the Wallet Standard's event protocol. Its
 * signatures are made here, in Node, with the user's keypair. */
function registerTestWallet({ address, publicKey }) {
  const account = { address, publicKey: new Uint8Array(publicKey), chains: ['solana:localnet'], features: ['solana:signTransaction'] };
  const wallet = {
    version: '1.0.0',
    name: 'Ballast Test Wallet',
    icon: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=',
    chains: ['solana:localnet'],
    accounts: [account],
    features: {
      'standard:connect': { version: '1.0.0', connect: async () => ({ accounts: [account] }) },
      'standard:events': { version: '1.0.0', on: () => () => {} },
      'solana:signTransaction': {
        version: '1.0.0',
        supportedTransactionVersions: ['legacy', 0],
        signTransaction: async (...inputs) =>
          Promise.all(
            inputs.map(async ({ transaction }) => {
              const signatures = transaction[0]; // compact-u16, < 128 here
              const message = transaction.slice(1 + 64 * signatures);
              const signature = await window.__testWalletSign(Array.from(message));
              const signed = transaction.slice();
              signed.set(signature, 1); // the fee payer signs first
              return { signedTransaction: signed };
            }),
          ),
      },
    },
  };
  const callback = ({ register }) => register(wallet);
  window.addEventListener('wallet-standard:app-ready', ({ detail }) => callback(detail));
  window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
}

test('a wallet deposits, borrows, sees its health move, is refused by name, repays and withdraws', async () => {
  const secret = Uint8Array.from(JSON.parse(readFileSync(join(work, 'user.json'), 'utf8')));
  const key = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(secret.slice(0, 32))]),
    format: 'der',
    type: 'pkcs8',
  });
  const page = await ctx.browser.newPage();
  await page.setViewport({ width: 1360, height: 1000 });
  await page.exposeFunction('__testWalletSign', (message) => Array.from(sign(null, Buffer.from(message), key)));
  await page.evaluateOnNewDocument(registerTestWallet, { address: ctx.pubkey.user, publicKey: Array.from(secret.slice(32)) });
  // No `labels=`: the names come from the mints' own Token-2022 metadata.
  await page.goto(`${ctx.web}/?rpc=${encodeURIComponent(ctx.url)}&market=${ctx.market}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const text = (selector) => page.$eval(selector, (e) => e.textContent ?? '');
  const waitStatus = async (pattern) => {
    await page.waitForFunction((p) => new RegExp(p).test(document.getElementById('status').textContent ?? ''), { timeout: 60_000 }, pattern);
    return text('#status');
  };
  const refreshed = async () => {
    await page.waitForFunction(() => Number(document.body.dataset.refreshed ?? 0) > 0, { timeout: 30_000 });
  };
  const move = async (kind, asset, amount) => {
    await page.evaluate(() => {
      document.getElementById('status').textContent = '';
    });
    await page.select('#move-kind', kind);
    await page.select('#move-reserve', ctx.reserves[asset]);
    await page.$eval('#move-amount', (e) => {
      e.value = '';
    });
    await page.type('#move-amount', amount);
    await page.click('#move-send');
    return waitStatus('confirmed|refused|failed');
  };
  const healthFactor = async () => Number(await text('#health-factor'));
  await shot('1-reserves');
  const names = await page.$$eval('#reserves tr[data-mint] td:first-child', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual([...names].sort(), ['SOL', 'TSLAx', 'USDC'], 'every asset by its mint`s symbol');
  const options = await page.$$eval('#move-reserve option', (o) => o.map((x) => x.textContent));
  assert.deepEqual([...options].sort(), ['SOL', 'TSLAx', 'USDC']);
  assert.equal(await page.$eval('#market-picker', (e) => e.value), ctx.market, 'the picker shows the market in use');
  const prices = await page.$$eval('#reserves .oracle-price', (cells) => cells.map((c) => c.textContent ?? ''));
  assert.equal(prices.length, 3);
  for (const p of prices) assert.match(p, /^\$\d+\.\d{4} ±\d+\.\d{4} band, \d+ s old/, p);

  await page.click('#connect');
  await page.waitForFunction(() => /No position yet/.test(document.getElementById('position').textContent ?? ''), { timeout: 30_000 });
  await shot('2-connected');

  assert.match(await move('deposit', 'SOL', '10'), /confirmed/, 'the first deposit opens the position');
  await refreshed();
  // Fresh prices (the lag band refuses a borrow on a price more than ~20 s old).
  postPrices(100);
  assert.match(await move('borrow', 'USDC', '500'), /confirmed/);
  await refreshed();
  await page.waitForSelector('#health-factor');
  const before = await healthFactor();
  assert.ok(Math.abs(before - 1.6) < 0.001, `10 SOL × $100 × 0.8 / $500 = 1.6, shown ${before}`);
  // The same figures as the Rust CLI's for the same position (both from the program's code).
  const rust = ballast('user', ['position', 'show']);
  assert.ok(Math.abs(before - rust.health_factor) < 1e-6, `web ${before}, CLI ${rust.health_factor}`);
  const shownLiquidationPrice = Number((await text('.liquidation-price')).replace('$', ''));
  const rustLiquidationPrice = rust.slots.find((s) => s.reserve === ctx.reserves.SOL).liquidation_price;
  assert.ok(Math.abs(shownLiquidationPrice - rustLiquidationPrice) < 1e-4, `web ${shownLiquidationPrice}, CLI ${rustLiquidationPrice}`);
  assert.equal(await page.$$eval('svg.chart', (c) => c.length), 1, 'a health chart for the SOL collateral');
  assert.equal(await page.$eval('#health-factor', (e) => e.className), 'hf-ok', '1.6 is green');
  // What the program would do now, per asset: the Rust CLI's limits (the SDK's copy of the
  // handlers' steps) and the web app's (simulations of the very transactions) agree.
  assert.match(await text('#can-borrow'), /^can borrow more now/);
  // Each figure holds for the moment it is computed, and only falls with time (the lag band
  // widens 25 bps a second of the price's age, interest accrues): the web app's, computed between
  // two of the CLI's, lies between them (less the bisection's 0.1 %).
  postPrices(100);
  const cliBefore = ballast('user', ['position', 'show']).limits;
  await page.click('#refresh');
  await refreshed();
  const units = (selector) => page.$eval(selector, (e) => Number(e.dataset.units)).catch(() => null);
  const webUsdc = await units(`li[data-borrow="${ctx.reserves.USDC}"]`);
  const webSol = await units(`li[data-withdraw="${ctx.reserves.SOL}"]`);
  const cliAfter = ballast('user', ['position', 'show']).limits;
  const between = (web, reserve, field, what) => {
    const [before, after] = [cliBefore, cliAfter].map((l) => l.find((x) => x.reserve === reserve)[field]);
    assert.ok(web !== null && after > 0, `${what}: web ${web}, CLI ${before} then ${after}`);
    assert.ok(web <= before * 1.0005 + 1 && web >= after * 0.998 - 1, `${what}: web ${web}, CLI ${before} then ${after}`);
  };
  between(webUsdc, ctx.reserves.USDC, 'max_borrow', 'USDC borrow');
  between(webSol, ctx.reserves.SOL, 'max_withdraw', 'SOL withdrawal');
  assert.match(await text(`li[data-borrow="${ctx.reserves.TSLAx}"]`), /TSLAx: no borrow now: BorrowDisabled/);
  await shot('3-borrowed');

  // The localnet price writer lowers SOL to $80: the health factor follows.
  postPrices(80);
  await page.click('#refresh');
  await page.waitForFunction((b) => Number(document.getElementById('health-factor')?.textContent) < b - 0.1, { timeout: 30_000 }, before);
  const fallen = await healthFactor();
  assert.ok(Math.abs(fallen - 1.28) < 0.001, `10 × $80 × 0.8 / $500 = 1.28, shown ${fallen}`);
  await shot('4-price-fell');

  // $400 more against $600 of initial collateral value: refused by name, nothing signed.
  postPrices(80);
  const refused = await move('borrow', 'USDC', '400');
  assert.match(refused, /refused, nothing signed: program error 6029: InsufficientCollateral/);
  const unchanged = ballast('user', ['position', 'show']);
  assert.ok(unchanged.debt_usd < 500.01, `the refused borrow moved nothing: debt ${unchanged.debt_usd}`);
  await shot('5-refused');
  // Refresh: the refusal was about a state that is gone.
  await page.click('#refresh');
  await refreshed();
  assert.equal(await text('#status'), '', 'the old error is cleared');

  // The colour scale: amber from 1 up to 1.1, red below 1.
  const hfAt = async (sol, expected) => {
    postPrices(sol);
    await page.click('#refresh');
    await page.waitForFunction((x) => Math.abs(Number(document.getElementById('health-factor')?.textContent) - x) < 0.001, { timeout: 30_000 }, expected);
    return page.$eval('#health-factor', (e) => [e.className, getComputedStyle(e).color]);
  };
  assert.deepEqual(await hfAt(68, 1.088), ['hf-near', 'rgb(176, 96, 0)'], '10 × $68 × 0.8 / $500 = 1.088: amber');
  assert.deepEqual(await hfAt(60, 0.96), ['hf-low', 'rgb(179, 38, 30)'], '0.96: red');
  await shot('6-colours');

  // No new price for a while: the lag band grows past the cap. Both tables say so in the same
  // words, the position's no `±0.0000 band`, and the page stays within the viewport.
  const stale = /price unavailable for borrowing: (band too wide|stale)/;
  const slotPricesNow = () => page.$$eval('#position .slot-price', (cells) => cells.map((c) => c.textContent ?? ''));
  for (let i = 0; i < 40 && !(await slotPricesNow()).every((p) => stale.test(p)); i++) {
    await new Promise((r) => setTimeout(r, 2_000));
    await page.click('#refresh');
    await refreshed();
  }
  assert.match(await text('#reserves'), stale);
  const slotPrices = await slotPricesNow();
  assert.equal(slotPrices.length, 2);
  for (const p of slotPrices) {
    assert.match(p, stale, p);
    assert.doesNotMatch(p, /±/, p);
  }
  assert.match(await text('#can-borrow'), /^cannot borrow more now/);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok((await overflow()) <= 0, `the page is ${await overflow()} px wider than the viewport`);
  await shot('7-stale');
  // The same page with the warnings kept on one line would overflow (what the test guards).
  const unwrapped = await page.addStyleTag({ content: 'td.oracle-price, .warn { white-space: nowrap !important; }' });
  assert.ok((await overflow()) > 0, 'unwrapped warnings widen the page');
  await unwrapped.evaluate((e) => e.remove());
  postPrices(100);

  // The wallet holds the 500 USDC it borrowed and owes their interest too: `repay all` says by
  // how much it is short (issue 25 item 2), nothing signed; with 10 USDC more it passes.
  // A token program's refusal reads in words, by the program that raised it.
  assert.match(
    await move('repay', 'USDC', '501'),
    /^refused, nothing signed: Token-2022 error 1: InsufficientFunds: the token account holds fewer tokens than the amount\nprogram log:/,
  );
  const short = await move('repay', 'USDC', 'all');
  assert.match(short, /^refused, nothing signed: owes 500\.00\d+ USDC, holds 500 USDC: short by 0\.00\d+ of USDC$/);
  ballast('admin', ['token', 'mint', ctx.mints.USDC, '10', '--to', ctx.pubkey.user]);
  assert.match(await move('repay', 'USDC', 'all'), /confirmed/);
  await refreshed();
  assert.match(await move('withdraw', 'SOL', 'all'), /confirmed/);
  await refreshed();
  const after = ballast('user', ['position', 'show']);
  assert.equal(after.debt_usd, 0);
  assert.equal(after.collateral_usd, 0);
  await shot('8-closed');
});

test('the bare URL tries the local validator and says which RPC it tried and how to pass ?rpc=', async () => {
  const page = await ctx.browser.newPage();
  // Whatever runs on this machine's port 8899, the page meets no validator there.
  const tried = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url().startsWith('http://127.0.0.1:8899')) {
      tried.push(request.url());
      void request.abort('connectionrefused');
    } else void request.continue();
  });
  await page.goto(`${ctx.web}/`);
  await page.waitForFunction(() => /Could not reach/.test(document.getElementById('status').textContent ?? ''), { timeout: 30_000 });
  const said = await page.$eval('#status', (e) => e.textContent);
  assert.ok(tried.length > 0, 'the default RPC is the local validator');
  assert.match(said, /^Could not reach the Solana RPC at http:\/\/127\.0\.0\.1:8899 /);
  assert.match(said, /\?rpc=<url>/);
  assert.match(said, /validator/);
  await page.screenshot({ path: join(shots, '9-no-rpc.png') });
  await page.close();
});

test('a wrong market address is named for what it is', async () => {
  const page = await ctx.browser.newPage();
  const open = async (market) => {
    await page.goto(`${ctx.web}/?rpc=${encodeURIComponent(ctx.url)}&market=${market}`);
    await page.waitForFunction(() => /is not a Ballast market/.test(document.getElementById('status').textContent ?? ''), { timeout: 30_000 });
    return page.$eval('#status', (e) => e.textContent);
  };
  const mint = await open(ctx.mints.USDC);
  assert.match(
    mint,
    new RegExp(`^${ctx.mints.USDC} is not a Ballast market \\(owner TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb \\(Token-2022\\), size \\d+ bytes\\): it is a mint or token account`),
  );
  const reserve = await open(ctx.reserves.SOL);
  assert.match(reserve, new RegExp(`^${ctx.reserves.SOL} is not a Ballast market \\(owner \\w+ \\(Ballast\\), size \\d+ bytes\\): it is a Ballast reserve`));
  const wallet = await open(ctx.pubkey.user);
  assert.match(wallet, /is not a Ballast market \(owner 11111111111111111111111111111111 \(System\), size 0 bytes\): it is a wallet/);
  await page.screenshot({ path: join(shots, '10-wrong-market.png') });
  await page.close();
});
