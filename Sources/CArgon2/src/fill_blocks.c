/*
 * Argon2's memory-filling loop: the SIMD implementation on x86-64, where SSE2 is always
 * present, and the portable reference elsewhere. Debian's libargon2 is built with the
 * reference on every machine, which made each Argon2id verification about a fifth slower
 * than the same library built this way (docs/design.md, "Argon2 built with the package").
 */
#if defined(__x86_64__) || defined(__SSE2__)
#include "opt.c"
#else
#include "ref.c"
#endif
