import { BALLAST_ERRORS } from './generated/errorNames';

/** `Name: message` of a Ballast error code (from the IDL), or `undefined` for another code. */
export function describeBallastError(code: number): string | undefined {
  const error = BALLAST_ERRORS[code];
  return error === undefined ? undefined : `${error.name}: ${error.message}`;
}

/** The custom program error code in a simulation's or a transaction's `err`, if there is one. */
export function customErrorCode(err: unknown): number | undefined {
  // RPC JSON: { InstructionError: [index, { Custom: code }] }
  const instructionError = (err as { InstructionError?: [number, unknown] } | null)?.InstructionError;
  const custom = (instructionError?.[1] as { Custom?: number | bigint } | undefined)?.Custom;
  return custom === undefined ? undefined : Number(custom);
}

/** A refusal in words: the program's error by name, else the runtime's error as JSON. */
export function describeTransactionError(err: unknown): string {
  const code = customErrorCode(err);
  const named = code === undefined ? undefined : describeBallastError(code);
  if (named) return `program error ${code}: ${named}`;
  return `transaction failed: ${JSON.stringify(err, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
}
