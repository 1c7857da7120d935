/**
 * @peculiar/x509 resolves its algorithm providers through tsyringe, which needs a Reflect
 * metadata polyfill before it loads, and a WebCrypto provider. Every module of this package
 * imports x509 through here so both are in place whatever the entry point.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export { x509 };
