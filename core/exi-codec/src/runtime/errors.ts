/** Why an EXI stream or a JSON document could not be processed. */
export type ExiErrorKind =
  | 'truncated' // the stream ended inside an event or value
  | 'invalid-header' // not an EXI header this codec accepts
  | 'invalid-event-code' // an event code the grammar does not define
  | 'unsupported' // a valid EXI feature these schemas' codecs do not implement (e.g. xsi:type)
  | 'out-of-range' // a value outside its schema type's range
  | 'too-long' // a string, binary or array longer than its schema facet allows
  | 'invalid-value' // a JSON value of the wrong kind, or an unknown enumeration literal
  | 'missing-element' // a required element or attribute is absent from the document
  | 'unexpected-element' // a key the schema does not allow at that place
  | 'trailing-data' // bytes after the end of the document
  | 'unknown-schema'
  | 'schema-not-loaded' // a schema loaded on demand (ISO 15118-20): await loadSchema(name) first
  | 'internal';

/**
 * Every failure of encode/decode. `bitOffset` is the position in the EXI stream (decode) or in
 * the output written so far (encode); `path` is the element path, e.g.
 * `V2G_Message/Body/CurrentDemandReq/EVTargetCurrent/Value`.
 */
export class ExiError extends Error {
  override readonly name = 'ExiError';
  path = '';
  constructor(
    readonly kind: ExiErrorKind,
    readonly bitOffset: number,
    readonly reason: string,
  ) {
    super(reason);
    this.refresh();
  }

  /** Prepends an enclosing element to the path (called while unwinding). */
  nest(element: string): this {
    if (element) {
      this.path = this.path ? `${element}/${this.path}` : element;
      this.refresh();
    }
    return this;
  }

  private refresh(): void {
    this.message = `${this.reason} (bit ${this.bitOffset}${this.path ? `, at ${this.path}` : ''})`;
  }
}

/** Used by generated code in catch blocks: keeps ExiErrors, turns anything else into one. */
export function nest(e: unknown, element: string, bitOffset: number): ExiError {
  const err = e instanceof ExiError ? e : new ExiError(e instanceof RangeError ? 'too-long' : 'internal', bitOffset, String((e as Error)?.message ?? e));
  return err.nest(element);
}
