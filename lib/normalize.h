/*
 * The matching copy of a text: what the rules engine runs its patterns on.
 *
 * ocss_norm_run() turns arbitrary bytes (UTF-8 expected, invalid bytes
 * tolerated) into one or more SEGMENTS of normalised text and keeps a map
 * from every normalised byte back to the span of ORIGINAL bytes it came
 * from, so that a match can be reported, and stripped, in the original.
 * The original text is never modified.
 *
 * Segment 0 is the text itself, normalised:
 *   - Unicode compatibility decomposition (NFKD: fullwidth, mathematical
 *     alphanumerics, ligatures, circled letters ...), combining marks dropped
 *     (so the result is NFKC-equivalent minus accents: "ïgnörе" -> "ignore");
 *   - zero-width, bidi-control and other format characters (Cf), variation
 *     selectors and tag characters removed;
 *   - Cyrillic and Greek look-alikes of Latin letters folded to Latin;
 *   - lower case;
 *   - every run of whitespace, punctuation, symbols and control characters
 *     collapsed to one ASCII space (so patterns are written as lower-case
 *     words separated by single spaces);
 *   - "leet" digits inside words that also hold letters folded
 *     (1gn0r3 -> ignore).  This is one byte for one byte.
 * Further segments are DERIVED texts, each mapped as a whole to the span of
 * original bytes it was derived from, normalised in the same way:
 *   - base64 and hex runs that decode to printable UTF-8 text,
 *   - percent-escaped and HTML-entity-escaped runs (>= 3 escapes),
 *     (nested encodings are decoded up to OCSS_NORM_MAX_DEPTH levels)
 *   - s p a c e d - o u t letters, joined.
 * Segments are matched separately: a pattern never spans two of them.
 *
 * Where it stops: no transliteration of whole scripts, no spelling
 * correction, no ROT13 or other ciphers, no decoding of runs shorter than
 * the thresholds below, no homoglyphs beyond Cyrillic/Greek/fullwidth/math.
 *
 * Ownership: a struct ocss_norm is scratch space owned by one thread; its
 * buffers are reused by every ocss_norm_run() and valid until the next one.
 */
#ifndef OCSS_NORMALIZE_H
#define OCSS_NORMALIZE_H

#include <stddef.h>

#define OCSS_NORM_MIN_B64	16	/* chars in a base64 run worth decoding */
#define OCSS_NORM_MIN_HEX	16	/* hex digits in a hex run */
#define OCSS_NORM_MIN_ESC	3	/* %XX or &...; escapes in a run */
#define OCSS_NORM_MIN_SPACED	5	/* single letters in a s p a c e d run */
#define OCSS_NORM_MAX_DEPTH	2	/* decoding levels (base64 of base64) */

enum ocss_norm_via {
	OCSS_VIA_TEXT = 0,	/* the text itself */
	OCSS_VIA_BASE64,
	OCSS_VIA_HEX,
	OCSS_VIA_PERCENT,
	OCSS_VIA_ENTITY,
	OCSS_VIA_SPACED
};

/* Flags for ocss_norm_run(). */
#define OCSS_NORM_NODERIVED	0x01	/* segment 0 only */
#define OCSS_NORM_NOSIMD	0x02	/* tests: no 16-byte SSE2 blocks */
#define OCSS_NORM_BYTES		0x04	/* tests: byte by byte, no blocks at
					 * all (the same output and map) */

struct ocss_norm;

struct ocss_norm *ocss_norm_new(void);
void		ocss_norm_free(struct ocss_norm *);

/* Normalise text[0..len).  Returns 0, or -1 when memory is exhausted. */
int		ocss_norm_run(struct ocss_norm *, const char *text, size_t len,
		    unsigned flags);

/* The segments of the last run.  The pointer stays valid until the next
 * ocss_norm_run(); the text is NUL-terminated UTF-8. */
size_t		ocss_norm_nsegs(const struct ocss_norm *);
const char	*ocss_norm_seg(const struct ocss_norm *, size_t seg, size_t *len,
		    enum ocss_norm_via *);

/* Map [start, end) of segment seg (end > start) back to the original
 * bytes [*ostart, *oend): whole characters, never part of one.  The text
 * given to the last ocss_norm_run() must still be there (it is read). */
void		ocss_norm_map(const struct ocss_norm *, size_t seg, size_t start,
		    size_t end, size_t *ostart, size_t *oend);

/* Do the last runs of a and b give the same segments (bytes and via) and
 * the same map (of every byte, and of every segment's tail from it)?  For
 * the tests that compare the block paths with the byte loop. */
int		ocss_norm_same(const struct ocss_norm *a,
		    const struct ocss_norm *b);

const char	*ocss_norm_via_name(enum ocss_norm_via);

#endif
