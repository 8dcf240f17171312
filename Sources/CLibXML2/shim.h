// libxml2, for RampartSAML's parsing and reading of SAML documents.
#ifndef RAMPART_CLIBXML2_SHIM_H
#define RAMPART_CLIBXML2_SHIM_H
// libxml2's ICU declarations clash with Foundation's own ICU module; Rampart never touches the
// encoding handler fields they add, so they are left out of what Swift sees.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>

// xmlFree is a macro over a function pointer in threaded builds of libxml2.
static inline void rampart_xml_free(void *pointer) { xmlFree(pointer); }
#endif
