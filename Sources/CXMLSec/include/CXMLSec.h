// libxmlsec1 for RampartSAML: signature verification and signing, decryption, and raw DEFLATE for
// the HTTP-Redirect binding. Keys are opaque here (xmlSecKeyPtr inside xmlsec_shim.c).
#ifndef RAMPART_CXMLSEC_H
#define RAMPART_CXMLSEC_H
#include <stddef.h>
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED  // see CLibXML2/shim.h
#include <libxml/tree.h>

/// Outcomes of rampart_xmlsec_verify.
enum { RAMPART_SIGNATURE_VALID = 1, RAMPART_SIGNATURE_INVALID = 0, RAMPART_SIGNATURE_REFUSED = -1 };

int rampart_xmlsec_initialize(void);
void *rampart_xmlsec_load_certificate(const unsigned char *pem, size_t length);
void *rampart_xmlsec_load_private_key(const unsigned char *pem, size_t length);
void rampart_xmlsec_destroy_key(void *key);
int rampart_xmlsec_verify(xmlNodePtr signature, void *key, unsigned char **signed_bytes, size_t *signed_length);
int rampart_xmlsec_decrypt(xmlNodePtr encrypted_data, void *private_key);
int rampart_xmlsec_sign(xmlNodePtr signature_template, void *key);
long rampart_deflate_raw(const unsigned char *input, size_t length, unsigned char *output, size_t capacity);
long rampart_inflate_raw(const unsigned char *input, size_t length, unsigned char *output, size_t limit);
#endif
