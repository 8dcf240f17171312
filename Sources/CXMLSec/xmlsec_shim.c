// The libxmlsec1 (OpenSSL) calls RampartSAML makes. xmlsec names its algorithms and key types with
// macros Swift cannot import, and its headers need defines SwiftPM drops from pkg-config, so the
// calls live here and Swift sees only CXMLSec.h. Everything cryptographic is xmlsec's and OpenSSL's.
#include <string.h>
#include <stdlib.h>
#include <zlib.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/keyinfo.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/symbols.h>
#include "CXMLSec.h"  // after xmlsec's headers: it hides libxml2's ICU parts from Swift

void rampart_xmlsec_destroy_key(void *key) { xmlSecKeyDestroy((xmlSecKeyPtr)key); }

/// Once per process (the caller guarantees once): libxml2, xmlsec and its OpenSSL backend.
/// xmlsec's own error printing is switched off: refused messages are reported as SAMLRejection.
int rampart_xmlsec_initialize(void) {
    xmlInitParser();
    if (xmlSecInit() < 0) return -1;
    if (xmlSecCheckVersion() != 1) return -2;
    if (xmlSecOpenSSLAppInit(NULL) < 0) return -3;
    if (xmlSecOpenSSLInit() < 0) return -4;
    xmlSecErrorsDefaultCallbackEnableOutput(0);
    return 0;
}

/// A public key from a PEM certificate (an IdP's signing certificate), or NULL.
void *rampart_xmlsec_load_certificate(const unsigned char *pem, size_t length) {
    return xmlSecOpenSSLAppKeyLoadMemory(pem, (xmlSecSize)length, xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
}

/// A private key from PEM (PKCS#1 or PKCS#8), or NULL.
void *rampart_xmlsec_load_private_key(const unsigned char *pem, size_t length) {
    return xmlSecOpenSSLAppKeyLoadMemory(pem, (xmlSecSize)length, xmlSecKeyDataFormatPem, NULL, NULL, NULL);
}

/// Verifies one <ds:Signature> with exactly `key` (never one from the message: with the key set,
/// xmlsec does not read KeyInfo, and no keys manager is given). Only these are enabled: exclusive
/// c14n, RSA-SHA256/384/512 and ECDSA-SHA256/384/512 in SignedInfo; enveloped-signature, exclusive
/// c14n and SHA-256/384/512 in the Reference; same-document references. On VALID, `signed_bytes`
/// receives a malloc'd copy of what the one Reference digested (the canonical bytes of the element
/// xmlsec resolved), for the caller to read.
int rampart_xmlsec_verify(xmlNodePtr signature, void *opaque_key,
                          unsigned char **signed_bytes, size_t *signed_length) {
    *signed_bytes = NULL; *signed_length = 0;
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (ctx == NULL) return RAMPART_SIGNATURE_REFUSED;
    ctx->signKey = xmlSecKeyDuplicate((xmlSecKeyPtr)opaque_key);
    ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    // SignedInfo's list (transformCtx.enabledTransforms) and the References' own list: xmlsec
    // checks a Reference against the second only, and an unset one would allow everything.
    const xmlSecTransformId signed_info[] = {
        xmlSecTransformExclC14NId, xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id,
        xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id,
    };
    const xmlSecTransformId reference[] = {
        xmlSecTransformExclC14NId, xmlSecTransformEnvelopedId,
        xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id,
    };
    int ready = ctx->signKey != NULL
        && xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecKeyDataRsaId) >= 0
        && xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecKeyDataEcdsaId) >= 0;
    for (size_t i = 0; ready && i < sizeof signed_info / sizeof signed_info[0]; i++) {
        ready = xmlSecDSigCtxEnableSignatureTransform(ctx, signed_info[i]) >= 0;
    }
    for (size_t i = 0; ready && i < sizeof reference / sizeof reference[0]; i++) {
        ready = xmlSecDSigCtxEnableReferenceTransform(ctx, reference[i]) >= 0;
    }
    if (!ready) {
        xmlSecDSigCtxDestroy(ctx);
        return RAMPART_SIGNATURE_REFUSED;
    }
    int outcome;
    if (xmlSecDSigCtxVerify(ctx, signature) < 0) {
        outcome = RAMPART_SIGNATURE_REFUSED;
    } else if (ctx->status != xmlSecDSigStatusSucceeded) {
        outcome = RAMPART_SIGNATURE_INVALID;
    } else if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
        outcome = RAMPART_SIGNATURE_REFUSED;
    } else {
        xmlSecDSigReferenceCtxPtr reference =
            (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
        xmlSecBufferPtr buffer = reference == NULL ? NULL : xmlSecDSigReferenceCtxGetPreDigestBuffer(reference);
        outcome = RAMPART_SIGNATURE_INVALID;
        if (reference != NULL && reference->status == xmlSecDSigStatusSucceeded && buffer != NULL) {
            size_t length = (size_t)xmlSecBufferGetSize(buffer);
            unsigned char *copy = malloc(length + 1);
            if (copy != NULL) {
                memcpy(copy, xmlSecBufferGetData(buffer), length);
                copy[length] = 0;
                *signed_bytes = copy; *signed_length = length;
                outcome = RAMPART_SIGNATURE_VALID;
            }
        }
    }
    xmlSecDSigCtxDestroy(ctx);
    return outcome;
}

/// Decrypts one <xenc:EncryptedData> in place (xmlsec replaces it with the plaintext element) with
/// the SP's private key. The session key comes from the <xenc:EncryptedKey> in its KeyInfo; the
/// key that unwraps it is only ever `private_key`. Returns 0 on success.
int rampart_xmlsec_decrypt(xmlNodePtr encrypted_data, void *opaque_private_key) {
    xmlSecKeysMngrPtr manager = xmlSecKeysMngrCreate();
    if (manager == NULL) return -1;
    xmlSecKeyPtr key = xmlSecKeyDuplicate((xmlSecKeyPtr)opaque_private_key);
    if (key == NULL || xmlSecOpenSSLAppDefaultKeysMngrInit(manager) < 0
        || xmlSecOpenSSLAppDefaultKeysMngrAdoptKey(manager, key) < 0) {
        if (key != NULL) xmlSecKeyDestroy(key);
        xmlSecKeysMngrDestroy(manager);
        return -1;
    }
    int result = -1;
    xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(manager);
    if (ctx != NULL
        && xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecKeyDataEncryptedKeyId) >= 0
        && xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecKeyDataAesId) >= 0
        && xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecKeyDataRsaId) >= 0
        && xmlSecEncCtxDecrypt(ctx, encrypted_data) >= 0 && ctx->result != NULL) {
        result = 0;
    }
    if (ctx != NULL) xmlSecEncCtxDestroy(ctx);
    xmlSecKeysMngrDestroy(manager);
    return result;
}

/// Signs a <ds:Signature> template in place with `key` (for documents Rampart issues, and for
/// the identity providers the tests and benchmarks play). Returns 0 on success.
int rampart_xmlsec_sign(xmlNodePtr signature_template, void *opaque_key) {
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (ctx == NULL) return -1;
    ctx->signKey = xmlSecKeyDuplicate((xmlSecKeyPtr)opaque_key);
    int result = (ctx->signKey != NULL && xmlSecDSigCtxSign(ctx, signature_template) >= 0) ? 0 : -1;
    xmlSecDSigCtxDestroy(ctx);
    return result;
}

/// Raw DEFLATE (RFC 1951) for the HTTP-Redirect binding. Returns the compressed length, or -1.
long rampart_deflate_raw(const unsigned char *input, size_t length, unsigned char *output, size_t capacity) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    stream.next_in = (Bytef *)input; stream.avail_in = (uInt)length;
    stream.next_out = output; stream.avail_out = (uInt)capacity;
    int status = deflate(&stream, Z_FINISH);
    long produced = (long)stream.total_out;
    deflateEnd(&stream);
    return status == Z_STREAM_END ? produced : -1;
}

/// Raw INFLATE that stops at `limit` output bytes. Returns the length, -2 past the limit, -1 if corrupt.
long rampart_inflate_raw(const unsigned char *input, size_t length, unsigned char *output, size_t limit) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit2(&stream, -15) != Z_OK) return -1;
    stream.next_in = (Bytef *)input; stream.avail_in = (uInt)length;
    stream.next_out = output; stream.avail_out = (uInt)limit;
    int status = inflate(&stream, Z_FINISH);
    long produced = (long)stream.total_out;
    inflateEnd(&stream);
    if (status == Z_STREAM_END) return produced;
    if (stream.avail_out == 0) return -2;
    return -1;
}

