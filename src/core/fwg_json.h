/*
 * A small strict JSON reader for one flat object, the UTF-8 check it
 * rests on, and the string escaper for JSON the gate writes.
 *
 * The reader is for bodies devices send (install reports,
 * docs/update-check.md): hostile bytes.  Errors are fixed strings, never
 * request bytes, so that a caller may log them as they are.
 */

#ifndef FWG_JSON_H
#define FWG_JSON_H

#include "fwg_types.h"

/*
 * 1 when p[0 .. n - 1] is well-formed UTF-8 (RFC 3629): no overlong
 * forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF, no
 * truncated sequence; 0 otherwise.  An empty range is valid.
 */
int fwg_utf8_valid(const char *p, size_t n);

/*
 * One JSON string (RFC 8259), *pp at its opening quote, end the end of
 * the input.  Escapes are decoded, \uXXXX with surrogate pairs; a lone
 * or reversed surrogate, \u0000 and a raw control character (< 0x20) are
 * errors.  The input must already be valid UTF-8 (fwg_utf8_valid): the
 * bytes are not checked again.
 *
 * On success *pp is past the closing quote and *out is the decoded
 * value: pointing into the input when nothing was escaped, else into
 * memory from a (never more than the raw length between the quotes).
 * With out NULL the string is only checked and a is not used.  Returns
 * NULL, or what is wrong ("out of memory" when a is short or NULL).
 */
const char *fwg_json_string(const char **pp, const char *end,
    fwg_arena_t *a, fwg_str_t *out);

/* longer names are checked, never decoded: they match no known member */
#define FWG_JSON_NAME_MAX  64

/* a member the caller knows about: it must be a string, at most once */
typedef struct {
    const char  *name;          /* NUL-terminated, FWG_JSON_NAME_MAX max */
    fwg_str_t    value;         /* set when seen */
    int          seen;
} fwg_json_member_t;

/*
 * One flat JSON object, the whole of p[0 .. n - 1] but for whitespace
 * around it.  Members named in known (names compared bytewise after
 * decoding) must be strings and appear once; their values are set as by
 * fwg_json_string.  Other members may be any scalar: a string, a number
 * (RFC 8259 grammar), true, false or null; their values are checked and
 * dropped, so newer devices may send more.  Nested objects and arrays,
 * bytes after the object, invalid UTF-8 and everything fwg_json_string
 * refuses are errors; so is an empty input.
 *
 * known[i].seen and .value are reset first.  The arena holds the decoded
 * values of escaped known members only: an arena made by fwg_arena_init()
 * on n + 8 * (nknown + 1) bytes is always enough.  Returns NULL, or what
 * is wrong (a fixed string).
 */
const char *fwg_json_object(const char *p, size_t n, fwg_json_member_t *known,
    size_t nknown, fwg_arena_t *a);

/*
 * Writes src[0 .. len - 1] as the contents of a JSON string, without the
 * quotes: '"' and '\\' get a backslash; \b \f \n \r \t stand for those
 * control characters; other bytes below 0x20, and 0x7f, become \u00xx
 * (lowercase hex); every other byte, UTF-8 included, is copied as it is
 * (the caller sees to it that src is UTF-8).  Returns the number of bytes
 * written; with dst NULL nothing is written and the same number is
 * returned, so a caller can size dst first (at most 6 * len).
 *
 * For UTF-8 without NUL bytes, fwg_json_string() reads the output, put
 * between quotes, back as src.  A NUL becomes \u0000, which the reader
 * refuses.
 */
size_t fwg_json_escape(char *dst, const char *src, size_t len);

#endif /* FWG_JSON_H */
