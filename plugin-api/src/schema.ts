/** A JSON Schema (draft 2020-12 / draft-07 subset as ajv accepts it). Kept loose on purpose. */
export type JSONSchema = { readonly [key: string]: unknown };
