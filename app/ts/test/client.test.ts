// The TypeScript client against what the Rust SDK and the program compute for the same inputs:
// `cargo run -p ballast-cli --bin ts-fixtures` writes them (scripts/test.sh does, to the path
// in BALLAST_TS_FIXTURES).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { address, getBase64Encoder } from '@solana/kit';
import {
  BALLAST_PROGRAM_ADDRESS,
  computeBudgetInstructions,
  decodeLegacyPrice,
  decodeLookupTable,
  decodeOraclePrice,
  describeBallastError,
  describeProgramError,
  describeThrown,
  describeTransactionError,
  findInsuranceVaultPda,
  findMarketPda,
  findPositionPda,
  findReservePda,
  findVaultPda,
  getHealthReportDecoder,
  getPositionSize,
  getReserveSize,
  healthCurve,
  healthFigures,
  largestPassing,
  LOOKUP_TABLE_AUTHORITY_OFFSET,
  notA,
  POSITION_DISCRIMINATOR,
  priceStanding,
  programName,
  token2022Symbol,
  untrimmed,
} from '../src';

const path = process.env.BALLAST_TS_FIXTURES;
if (!path) throw new Error('BALLAST_TS_FIXTURES: run `cargo run -p ballast-cli --bin ts-fixtures > FILE` first');
const fx = JSON.parse(readFileSync(path, 'utf8'));
const bytes = (b64: string) => new Uint8Array(getBase64Encoder().encode(b64));
const a = (s: string) => address(s);

test('the program address is the IDL`s and the Rust build`s', () => {
  assert.equal(BALLAST_PROGRAM_ADDRESS, fx.program);
});

test('PDAs derive as the Rust SDK derives them', async () => {
  const p = fx.pdas;
  assert.equal((await findMarketPda({ creator: a(p.market.creator), marketId: p.market.market_id }))[0], p.market.address);
  assert.equal((await findReservePda({ market: a(p.reserve.market), mint: a(p.reserve.mint) }))[0], p.reserve.address);
  assert.equal((await findVaultPda({ reserve: a(p.vault.reserve) }))[0], p.vault.address);
  assert.equal((await findInsuranceVaultPda({ reserve: a(p.insurance_vault.reserve) }))[0], p.insurance_vault.address);
  const position = await findPositionPda({ market: a(p.position.market), owner: a(p.position.owner), index: p.position.index });
  assert.equal(position[0], p.position.address);
});

test('account layouts have the Rust sizes', () => {
  assert.equal(getReserveSize(), fx.sizes.reserve);
  assert.equal(getPositionSize(), fx.sizes.position);
});

test('errors read by name as the Rust SDK describes them', () => {
  for (const { code, description } of fx.errors) {
    assert.equal(describeBallastError(code), description);
  }
  assert.equal(
    describeTransactionError({ InstructionError: [2, { Custom: 6029 }] }),
    `program error 6029: ${fx.errors.find((e: { code: number }) => e.code === 6029).description}`,
  );
  assert.equal(describeBallastError(1), undefined);
});

test('a lookup table decodes to the Rust SDK`s addresses and authority', () => {
  const t = decodeLookupTable(a(fx.lookup_table.addresses[0]), bytes(fx.lookup_table.data_base64));
  assert.deepEqual(t.addresses, fx.lookup_table.addresses);
  assert.equal(t.authority, fx.lookup_table.authority);
  assert.equal(t.deactivationSlot, 2n ** 64n - 1n, 'active');
  assert.equal(LOOKUP_TABLE_AUTHORITY_OFFSET, fx.lookup_table.authority_offset);
});

test('compute-budget instructions are byte for byte the Rust SDK`s', () => {
  const ixs = computeBudgetInstructions(200_000, 1_000n);
  assert.equal(ixs.length, fx.compute_budget.length);
  ixs.forEach((ix, i) => {
    assert.equal(ix.programAddress, fx.compute_budget[i].program);
    assert.deepEqual(ix.data, bytes(fx.compute_budget[i].data_base64));
  });
  assert.equal(computeBudgetInstructions(200_000, 0n).length, 1, 'no price instruction for 0');
});

test('the health view`s return data decodes to the program`s figures', () => {
  const report = getHealthReportDecoder().decode(bytes(fx.health_report.data_base64));
  const f = healthFigures(report);
  const h = fx.health_report;
  assert.ok(Math.abs((f.healthFactor ?? 0) - h.health_factor) < 1e-9);
  assert.equal(f.leverage, h.leverage);
  assert.equal(f.collateralUsd, h.collateral_usd);
  assert.equal(f.debtUsd, h.debt_usd);
  assert.equal(f.slots[0].liquidationPrice, h.liquidation_price_of_slot_0);
  assert.equal(f.slots[1].liquidationPrice, null);
  assert.equal(f.liquidatable, false);
  assert.equal(f.stressedInitCollateralUsd, h.stressed_init_collateral_usd);
  assert.equal(f.passesInitial, h.passes_initial);
});

test('a report trimmed of its zero tail (as the runtime returns it) decodes whole', () => {
  const full = bytes(fx.health_report.data_base64);
  let end = full.length;
  while (end > 0 && full[end - 1] === 0) end--;
  assert.ok(end < full.length, 'the fixture ends in zeros');
  const trimmed = full.subarray(0, end);
  assert.throws(() => getHealthReportDecoder().decode(trimmed));
  assert.deepEqual(getHealthReportDecoder().decode(untrimmed(trimmed)), getHealthReportDecoder().decode(full));
});

test('the health curve passes through today`s health factor and 1 at the liquidation price', () => {
  const f = healthFigures(getHealthReportDecoder().decode(bytes(fx.health_report.data_base64)));
  const slot = f.slots[0];
  const [today, atLiquidation, zero] = healthCurve(f, 0, [slot.price, slot.liquidationPrice!, 0]);
  assert.ok(Math.abs(today.healthFactor! - f.healthFactor!) < 1e-6, `${today.healthFactor}`);
  assert.ok(Math.abs(atLiquidation.healthFactor! - 1) < 1e-9, `${atLiquidation.healthFactor}`);
  assert.ok(zero.healthFactor! < 1, 'worthless collateral leaves the position liquidatable');
  // The debt slot has no liquidation price: no curve.
  assert.equal(healthCurve(f, 1, [1])[0].healthFactor, null);
});


test('mainnet oracle accounts read as the program`s own parsers read them', () => {
  assert.ok(fx.oracles.some((o: { source: number }) => o.source === 1), 'a legacy account is among them');
  for (const o of fx.oracles) {
    const read = decodeOraclePrice(o.source, bytes(o.data_base64));
    assert.ok(read, o.file);
    assert.equal(read.trading, true, o.file);
    assert.equal(read.price, o.price * 10 ** o.expo, o.file);
    assert.equal(read.conf, o.conf * 10 ** o.expo, o.file);
    assert.equal(read.publishTime, o.publish_time, o.file);
  }
});

test('a halted legacy account reads its last trading price, as the program reads it', () => {
  const h = fx.halted_legacy;
  const read = decodeLegacyPrice(bytes(h.data_base64));
  assert.ok(read);
  assert.equal(read.trading, false);
  assert.equal(read.price, h.price * 10 ** h.expo);
  assert.equal(read.conf, h.conf * 10 ** h.expo);
  assert.equal(read.publishTime, h.publish_time);
});

test('a legacy account that is not trading reads as such, and other bytes as nothing', () => {
  const legacy = fx.oracles.find((o: { source: number }) => o.source === 1);
  const data = bytes(legacy.data_base64);
  data.set([0, 0, 0, 0], 224); // aggregate status: Unknown
  assert.equal(decodeLegacyPrice(data)?.trading, false);
  data.set([0, 0, 0, 0], 0); // no longer Pyth's magic
  assert.equal(decodeLegacyPrice(data), null);
  assert.equal(decodeOraclePrice(0, bytes(legacy.data_base64)), null, 'an unconfigured source reads nothing');
});

test('a price`s standing: its lag band widens with age and the program`s refusals show', () => {
  const read = { price: 100, conf: 0.1, publishTime: 1_000, trading: true };
  const config = { maxAgeSecs: 60, lagBpsPerSec: 10, maxBandBps: 200 };
  assert.deepEqual(priceStanding(read, config, 1_000), { ageSecs: 0, band: 0.1, refusal: null });
  const ten = priceStanding(read, config, 1_010);
  assert.equal(ten.refusal, null);
  assert.ok(Math.abs(ten.band - 1.1) < 1e-9); // 0.1 + 100 × 10 bps × 10 s
  assert.equal(priceStanding(read, config, 1_020).refusal, 'band too wide'); // 2.1 > 2 % of 100
  assert.equal(priceStanding(read, { ...config, lagBpsPerSec: 0 }, 1_061).refusal, 'stale');
  assert.equal(priceStanding({ ...read, trading: false }, config, 1_000).refusal, 'not trading');
  assert.equal(priceStanding(null, config, 1_000).refusal, 'no price');
});

test('token, Token-2022, system and ATA codes read in the Rust SDK`s words, every one', () => {
  assert.equal(fx.program_errors.length, 5);
  for (const { program, name, codes } of fx.program_errors) {
    assert.equal(programName(program), name, program);
    codes.forEach((description: string | null, code: number) => {
      assert.equal(describeProgramError(program, code) ?? null, description, `${name} code ${code}`);
    });
  }
  assert.ok(fx.framework_errors.length >= 10, 'Anchor`s codes are in the fixtures');
  for (const { code, description } of fx.framework_errors) assert.equal(describeBallastError(code), description, `code ${code}`);
  for (let code = 100; code < 6000; code++) {
    if (!fx.framework_errors.some((e: { code: number }) => e.code === code)) assert.equal(describeBallastError(code), undefined, `code ${code}`);
  }
});

test('a failed transaction says which program refused it and why, in words', () => {
  const token2022 = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';
  const programs = ['ComputeBudget111111111111111111111111111111', BALLAST_PROGRAM_ADDRESS];
  // The logs name the innermost failing program: Token-2022's InsufficientFunds under a deposit.
  const logs = [
    `Program ${BALLAST_PROGRAM_ADDRESS} invoke [1]`,
    `Program ${token2022} invoke [2]`,
    'Program log: Error: insufficient funds',
    `Program ${token2022} consumed 1234 of 200000 compute units`,
    `Program ${token2022} failed: custom program error: 0x1`,
    `Program ${BALLAST_PROGRAM_ADDRESS} failed: custom program error: 0x1`,
  ];
  const text = describeTransactionError({ InstructionError: [1, { Custom: 1 }] }, { programs, logs });
  assert.match(text, /^Token-2022 error 1: InsufficientFunds: the token account holds fewer tokens than the amount\nprogram log:\n/);
  assert.ok(!text.includes(' consumed '), 'no compute-unit accounting among the log lines');
  // Without logs (a confirmed transaction's status): both readings of a low code.
  assert.equal(
    describeTransactionError({ InstructionError: [1, { Custom: 1 }] }, { programs }),
    'a program Ballast called error 1: custom error 1, i.e. SPL Token / Token-2022: InsufficientFunds: ' +
      'the token account holds fewer tokens than the amount, or System: ResultWithNegativeLamports: ' +
      'the paying account has too little SOL for the transfer or the rent',
  );
  // An instruction of another program: by its name.
  assert.match(
    describeTransactionError({ InstructionError: [0, { Custom: 0 }] }, { programs: ['ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL'] }),
    /^Associated Token Account error 0: InvalidOwner: /,
  );
  assert.equal(
    describeTransactionError({ InstructionError: [0, { Custom: 4 }] }, { programs: ['TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'] }),
    "SPL Token error 4: OwnerMismatch: the token account's owner is not the one that signed or was expected",
  );
  // Ballast's own codes stay Ballast's, with or without context.
  assert.match(describeTransactionError({ InstructionError: [1, { Custom: 6029 }] }, { programs }), /^program error 6029: InsufficientCollateral: /);
  // "No record of a prior credit": the fee payer has no SOL, and is told to fund it.
  const payer = 'Fee1111111111111111111111111111111111111111';
  const unfunded = `transaction failed: the fee payer ${payer} has no SOL on this cluster (no account at its address): fund it, e.g. \`ballast airdrop 1\` on a local validator or devnet, or a transfer`;
  assert.equal(describeTransactionError('AccountNotFound', { feePayer: payer }), unfunded);
  assert.equal(
    describeThrown(new Error('Transaction simulation failed: Attempt to debit an account but found no record of a prior credit.'), { feePayer: payer }),
    unfunded,
  );
  assert.match(describeTransactionError('InsufficientFundsForFee', { feePayer: payer }), /has too little SOL for the fee: fund it/);
  assert.match(describeTransactionError({ InsufficientFundsForRent: { account_index: 2 } }), /account 2 of the transaction would hold less SOL than rent exemption needs/);
  assert.match(describeThrown(new Error('failed: custom program error: 0x1772')), /^program error 6002: NotPositionOwner/);
  assert.equal(describeTransactionError('BlockhashNotFound'), 'transaction failed: BlockhashNotFound');
});

test('a Token-2022 mint`s symbol reads from its TokenMetadata as the Rust SDK reads it', () => {
  assert.equal(fx.mint_symbols.length, 4);
  for (const { data_base64, symbol } of fx.mint_symbols) {
    assert.ok(symbol, 'the SDK reads a symbol from each xStock mint');
    assert.equal(token2022Symbol(bytes(data_base64)), symbol);
  }
  const plain = bytes(fx.mint_symbols[0].data_base64).subarray(0, 82); // a mint without extensions
  assert.equal(token2022Symbol(plain), null);
});

test('an account that is not the Ballast account asked for is named with its owner and size', () => {
  const key = 'Key1111111111111111111111111111111111111111';
  assert.equal(
    notA('market', key, '11111111111111111111111111111111', new Uint8Array()),
    `${key} is not a Ballast market (owner 11111111111111111111111111111111 (System), size 0 bytes): it is a wallet`,
  );
  const position = new Uint8Array(getPositionSize());
  position.set(POSITION_DISCRIMINATOR);
  assert.equal(
    notA('market', key, BALLAST_PROGRAM_ADDRESS, position),
    `${key} is not a Ballast market (owner ${BALLAST_PROGRAM_ADDRESS} (Ballast), size ${position.length} bytes): it is a Ballast position`,
  );
  assert.equal(
    notA('position', key, 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', new Uint8Array(165)),
    `${key} is not a Ballast position (owner TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA (SPL Token), size 165 bytes): it is a mint or token account`,
  );
});

test('the largest passing amount: exact at the bound, never above the limit, the refusal of one unit', async () => {
  const limitAt = (limit: bigint) => async (amount: bigint) => (amount <= limit ? null : `over ${limit}`);
  assert.deepEqual(await largestPassing(1_000n, limitAt(5_000n)), { max: 1_000n, refusal: null });
  const found = await largestPassing(10n ** 12n, limitAt(123_456_789n));
  assert.ok(found.max <= 123_456_789n && found.max >= 123_456_789n - 123_457n, `${found.max}`);
  assert.deepEqual(await largestPassing(10n ** 12n, limitAt(0n)), { max: 0n, refusal: 'over 0' });
  assert.deepEqual(await largestPassing(0n, limitAt(10n)), { max: 0n, refusal: null });
  assert.deepEqual(await largestPassing(100n, limitAt(37n), 1e-9), { max: 37n, refusal: null });
});
