/*
 * encoding.h - byte-level text checks and encodings used by several modules:
 * UTF-8 validation, control-character checks, base64 (RFC 4648, standard
 * alphabet, padded). Pure functions, no allocation but into caller buffers.
 */
#ifndef ROOST_ENCODING_H
#define ROOST_ENCODING_H

#include <stddef.h>

#include "buf.h"

/* 1 if p[0..n) is well-formed UTF-8 (no overlongs, no surrogates, no code
 * points above U+10FFFF), else 0. An empty string is valid. */
int roost_utf8_valid(const char *p, size_t n);

/* 1 if p[0..n) holds a C0 control (U+0000-U+001F), DEL (U+007F) or, read
 * as UTF-8, a C1 control (U+0080-U+009F), else 0. */
int roost_has_control(const char *p, size_t n);

/* Appends the base64 form of p[0..n) to out. */
void roost_base64_encode(struct roost_buf *out, const void *p, size_t n);

/* Appends the bytes of base64 text to out. Returns 0, or -1 on a character
 * outside the alphabet, wrong padding or a length that is not a multiple of
 * 4 (out is then left with an unspecified partial result). */
int roost_base64_decode(struct roost_buf *out, const char *text, size_t n);

#endif
