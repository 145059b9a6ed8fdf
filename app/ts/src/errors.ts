import { BALLAST_ERRORS } from './generated/errorNames';
import { BALLAST_PROGRAM_ADDRESS } from './generated/programs';
import {
  ASSOCIATED_TOKEN_ERRORS,
  ASSOCIATED_TOKEN_PROGRAM,
  FRAMEWORK_ERRORS,
  PROGRAM_NAMES,
  SYSTEM_ERRORS,
  SYSTEM_PROGRAM,
  TOKEN_2022_ERRORS,
  TOKEN_2022_PROGRAM_ADDRESS,
  TOKEN_2022_WORDS,
  TOKEN_ERRORS,
  TOKEN_PROGRAM_ADDRESS,
} from './programErrors';

/** `Name: message` of a Ballast error code (from the IDL) or of an Anchor framework check the
 * program can fail on, or `undefined` for another code. */
export function describeBallastError(code: number): string | undefined {
  const error = BALLAST_ERRORS[code] ?? (FRAMEWORK_ERRORS[code] && { name: FRAMEWORK_ERRORS[code][0], message: FRAMEWORK_ERRORS[code][1] });
  return error === undefined ? undefined : `${error.name}: ${error.message}`;
}

/** The name of a program a Ballast transaction calls, for messages. */
export function programName(program: string): string | undefined {
  return program === BALLAST_PROGRAM_ADDRESS ? 'Ballast' : PROGRAM_NAMES[program];
}

/** `Name: what it means` for custom error `code` raised by `program` (one a Ballast transaction
 * calls), or `undefined` for a code that program does not define (as the Rust SDK). */
export function describeProgramError(program: string, code: number): string | undefined {
  let entry: readonly [string, string | undefined] | undefined;
  if (program === BALLAST_PROGRAM_ADDRESS) return describeBallastError(code);
  if (program === TOKEN_PROGRAM_ADDRESS || program === TOKEN_2022_PROGRAM_ADDRESS) {
    entry = TOKEN_ERRORS[code];
    if (!entry && program === TOKEN_2022_PROGRAM_ADDRESS) {
      const name = TOKEN_2022_ERRORS[code - TOKEN_ERRORS.length];
      entry = name === undefined ? undefined : [name, TOKEN_2022_WORDS[name]];
    }
  } else if (program === SYSTEM_PROGRAM) {
    entry = SYSTEM_ERRORS[code];
  } else if (program === ASSOCIATED_TOKEN_PROGRAM) {
    entry = ASSOCIATED_TOKEN_ERRORS[code];
  }
  if (!entry) return undefined;
  const [name, words] = entry;
  return words === undefined ? name : `${name}: ${words}`;
}

/** The custom program error code in a simulation's or a transaction's `err`, if there is one. */
export function customErrorCode(err: unknown): number | undefined {
  // RPC JSON: { InstructionError: [index, { Custom: code }] }
  const instructionError = (err as { InstructionError?: [number, unknown] } | null)?.InstructionError;
  const custom = (instructionError?.[1] as { Custom?: number | bigint } | undefined)?.Custom;
  return custom === undefined ? undefined : Number(custom);
}

/** What a failed transaction is read against: the program of each instruction in message
 * order, the simulation's (or preflight's) logs, and the fee payer. All optional. */
export interface FailureContext {
  programs?: readonly string[];
  logs?: readonly string[];
  feePayer?: string;
}

/** How many of a failed transaction's last log lines a message carries (the SDK's). */
export const LOG_LINES_SHOWN = 5;

/** The last log lines without the runtime's compute-unit accounting. */
export function lastLogLines(logs: readonly string[]): string[] {
  return logs.filter((l) => !l.includes(' consumed ')).slice(-LOG_LINES_SHOWN);
}

/** The program whose failure the logs show first: the innermost one, which raised the error the
 * outer programs pass on (`Program <id> failed: custom program error: 0x…`). */
export function raisingProgram(logs: readonly string[]): string | undefined {
  for (const line of logs) {
    const m = /^Program (\S+) failed: custom program error/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

const FUND = 'fund it, e.g. `ballast airdrop 1` on a local validator or devnet, or a transfer';
/** The runtime's words for a fee payer with no account ("AccountNotFound"). */
export const NO_PRIOR_CREDIT = 'Attempt to debit an account but found no record of a prior credit';

function customError(code: number, instructionProgram: string | undefined, logs: readonly string[]): string {
  const raisedBy = raisingProgram(logs) ?? instructionProgram;
  const own = () => `program error ${code}: ${describeBallastError(code) ?? `custom error ${code}`}`;
  if (raisedBy === undefined) return own();
  if (raisedBy === BALLAST_PROGRAM_ADDRESS && code < 100) {
    // Anchor's codes start at 100 and Ballast's at 6000: a lower code from a Ballast
    // instruction without logs came from a program it called, and which one is not known.
    const guesses = (
      [
        [TOKEN_PROGRAM_ADDRESS, 'SPL Token / Token-2022'],
        [SYSTEM_PROGRAM, 'System'],
      ] as const
    ).flatMap(([id, name]) => {
      const words = describeProgramError(id, code);
      return words === undefined ? [] : [`${name}: ${words}`];
    });
    const description = guesses.length ? `custom error ${code}, i.e. ${guesses.join(', or ')}` : `custom error ${code}`;
    return `a program Ballast called error ${code}: ${description}`;
  }
  if (raisedBy === BALLAST_PROGRAM_ADDRESS) return own();
  const name = programName(raisedBy) ?? `program ${raisedBy}`;
  return `${name} error ${code}: ${describeProgramError(raisedBy, code) ?? `custom error ${code}`}`;
}

/** A refusal in words, as the Rust SDK says it: a custom code by the program that raised it
 * (Ballast's by name, the token, system and associated token programs' with what they mean), a
 * fee payer without SOL told to fund it (the runtime's "no record of a prior credit"), anything
 * else as the runtime put it with the last log lines. */
export function describeTransactionError(err: unknown, context: FailureContext = {}): string {
  const logs = context.logs ?? [];
  const payer = context.feePayer ?? 'the fee payer';
  const code = customErrorCode(err);
  if (code !== undefined) {
    const index = (err as { InstructionError: [number, unknown] }).InstructionError[0];
    const text = customError(code, context.programs?.[Number(index)], logs);
    const tail = lastLogLines(logs);
    return tail.length ? `${text}\nprogram log:\n  ${tail.join('\n  ')}` : text;
  }
  const payerNamed = context.feePayer ? `the fee payer ${payer}` : 'the fee payer';
  const kind = typeof err === 'string' ? err : typeof err === 'object' && err !== null ? Object.keys(err)[0] : undefined;
  if (kind === 'AccountNotFound' || (typeof err === 'string' && err.includes(NO_PRIOR_CREDIT))) {
    return `transaction failed: ${payerNamed} has no SOL on this cluster (no account at its address): ${FUND}`;
  }
  if (kind === 'InsufficientFundsForFee') return `transaction failed: ${payerNamed} has too little SOL for the fee: ${FUND}`;
  if (kind === 'InsufficientFundsForRent') {
    const index = (err as { InsufficientFundsForRent?: { account_index?: number } }).InsufficientFundsForRent?.account_index;
    return (
      `transaction failed: account ${index} of the transaction would hold less SOL than rent exemption needs ` +
      `(${payerNamed} pays for new accounts: ${FUND})`
    );
  }
  const raw = typeof err === 'string' ? err : JSON.stringify(err, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  const tail = lastLogLines(logs);
  return tail.length ? `transaction failed: ${raw}; last log lines: ${tail.join(' | ')}` : `transaction failed: ${raw}`;
}

/** An error thrown by an RPC call, in words: a preflight failure or any message carrying the
 * runtime's "no record of a prior credit" reads as `describeTransactionError` reads it. */
export function describeThrown(e: unknown, context: FailureContext = {}): string {
  const message = e instanceof Error ? e.message : String(e);
  if (message.includes(NO_PRIOR_CREDIT)) return describeTransactionError('AccountNotFound', context);
  const custom = /custom program error: 0x([0-9a-f]+)/i.exec(message);
  if (custom) {
    const code = parseInt(custom[1], 16);
    return describeTransactionError({ InstructionError: [0, { Custom: code }] }, { ...context, programs: undefined });
  }
  return message;
}
