/**
 * @opensecc/v2g-pki: the ISO 15118-2 V2G PKI for OpenSECC: test PKI generation, certificate
 * chain validation, XML signatures over EXI fragments, contract key transport.
 */
export { generatePki, DEFAULT_EMAID, DEFAULT_EVSEID, DEFAULT_PCID, type CrlRole, type CertFiles, type CertOverride, type GeneratePkiOptions, type PkiLayout } from './generate.js';
export { PROFILES, DEFAULT_VALIDITY_DAYS, PATH_LEN, type CertKind, type CertProfile, type CertRole } from './profiles.js';
export { PkiError, toPem, fromPem, readCertificate, readChain, loadKey, publicKeyOf, p256Point, rawP256PublicKey, type CryptoKeyLike } from './pem.js';
export { validateChain, parseCertificate, MAX_SUB_CAS, type ChainErrorCode, type ChainResult, type LeafRole, type ParsedCert, type ValidateChainInput } from './chain.js';
export { emaidOf, isValidEmaid } from './emaid.js';
export { signIso2, verifyIso2, digestIso2Fragment, CANONICAL_EXI, ECDSA_SHA256, SHA256, type Iso2Signature, type SignedReference, type VerifyResult } from './xmldsig.js';
export { encryptContractKey, decryptContractKey, concatKdf, privateKeyFromScalar, type EncryptedContractKey } from './key-transport.js';
export { issueCertificate, generateKeyPair, randomSerial, type IssueCertificateOptions, type IssueRole, type IssuedCertificate, type CertificateInput, type PrivateKeyInput, type PublicKeyInput } from './issue.js';
export { createCrl, revoke, parseCrl, readCrls, crlSignedBy, normalSerial, CRL_PEM_LABEL, type CreateCrlOptions, type CrlReason, type IssuedCrl, type ParsedCrl, type RevokedEntry, type RevokeOptions } from './crl.js';
