/** The message database as the plugin uses it: what a DBC file describes, resolved and checked. */

export type AttributeValue = string | number;

export interface CanSignal {
  readonly name: string;
  /** Intel (little-endian) start bit: the position of the least significant bit in the payload. */
  readonly startBit: number;
  readonly length: number;
  /** Only 'little_endian' (DBC `@1`) is supported. */
  readonly byteOrder: 'little_endian';
  readonly signed: boolean;
  readonly factor: number;
  readonly offset: number;
  /** Physical range (DBC `[min|max]`). */
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly receivers: readonly string[];
  readonly comment: string;
  /** Value descriptions (DBC `VAL_`), raw value → label. */
  readonly values: ReadonlyMap<number, string>;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Raw "not available" value: all ones for signals of two bits or more. */
  readonly sna: number | undefined;
}

export interface CanMessage {
  /** The 29-bit arbitration id (without the DBC extended-frame flag). */
  readonly id: number;
  readonly name: string;
  readonly dlc: number;
  readonly transmitter: string;
  readonly signals: readonly CanSignal[];
  readonly comment: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface CanDatabase {
  readonly version: string;
  readonly nodes: readonly string[];
  readonly nodeComments: ReadonlyMap<string, string>;
  readonly comment: string;
  readonly messages: readonly CanMessage[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Where the database came from (file path), for error messages and docs. */
  readonly source: string;
}

/** A DBC file (or database) that does not parse or breaks a rule; names the file, line and what was wrong. */
export class DbcError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${source}${line !== undefined ? `:${line}` : ''}: ${reason}`);
    this.name = 'DbcError';
  }
}

export const EXTENDED_ID_FLAG = 0x8000_0000;
export const MAX_EXTENDED_ID = 0x1fff_ffff;
