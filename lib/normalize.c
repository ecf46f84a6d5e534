/*
 * Normaliser: the matching copy of a text plus a map back to its bytes.
 *
 * The map is a list of anchors.  An anchor covers a run of output bytes.
 * An ASCII anchor (segment 0 only, the common case) covers the output of
 * the ASCII input bytes [in, in_end): each letter or digit gives one byte,
 * the first separator of a run a space, the rest of the run nothing.  The
 * map of one of its bytes is found by replaying that rule from the
 * anchor's start (ocss_norm_map(), only for findings), so absorbed
 * separators cost no anchor; an anchor is closed every REPLAY_MAX input
 * bytes to bound the replay.  Any other anchor maps its whole output run
 * onto one input span (a multibyte character, a derived segment).  With
 * OCSS_NORM_BYTES (tests) every absorbed separator ends the ASCII anchor,
 * which is then LINEAR, byte for byte without a replay: the reference the
 * replay is compared with (ocss_norm_same()).  Input
 * bytes that produce nothing (absorbed separators, zero-width characters)
 * fall inside or between anchors; a match spanning them covers them.
 *
 * The ASCII path is one table lookup a byte; only non-ASCII characters go
 * through libunistring.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define NORM_SSE2	1
#endif

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "buf.h"
#include "normalize.h"

struct anchor {
	size_t	 out;		/* first output byte */
	size_t	 in;		/* first input byte */
	size_t	 in_end;	/* one past the last input byte */
	int	 kind;
};

enum { A_SPAN, A_REPLAY, A_LINEAR };	/* anchor kinds (see above) */

#define REPLAY_MAX	64	/* an ASCII anchor closes at the first block
				 * or byte end this far from its start */

struct seg {
	size_t			 start, end;	/* output bytes */
	size_t			 a0, na;	/* anchors */
	enum ocss_norm_via	 via;
};

/* A derived (decoded) text; byte i came from original bytes [ms[i], me[i]). */
struct dtext {
	char		*s;
	size_t		*ms, *me;
	size_t		 len, cap;
};

struct ocss_norm {
	const unsigned char *src;	/* the text of the last run */
	char		*out;
	size_t		 olen, ocap;
	struct anchor	*an;
	size_t		 nan, ancap;
	struct seg	*seg;
	size_t		 nseg, segcap;
	struct dtext	 tmp[OCSS_NORM_MAX_DEPTH];	/* decoded text per level */
	size_t		 budget;	/* derived bytes still allowed */
	size_t		*cand;		/* single letters (norm_text) */
	size_t		 ncand, candcap;
	size_t		*runs;		/* base64/hex runs: start, end pairs */
	size_t		 nruns, runcap;
	size_t		*escs;		/* every '%' and '&' */
	size_t		 nescs, esccap;
	size_t		*leet;		/* segment 0's output ranges where a
					 * word may be leet: a digit next to a
					 * letter, a non-ASCII character */
	size_t		 nleet, leetcap;
	unsigned	 flags;		/* of this run */
};

#define MAX_SEGS	512

/* ASCII: letters lower-cased, digits kept, everything else a separator. */
static const unsigned char amap[128] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Byte classes for the encoding finders. */
#define C_ALNUM	0x01
#define C_B64	0x02	/* base64 alphabet, standard and URL-safe */
#define C_HEX	0x04
#define C_ALPHA	0x08	/* ASCII letters */
static const unsigned char cls[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2,
	7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0,
	0, 15, 15, 15, 15, 15, 15, 11, 11, 11, 11, 11, 11, 11, 11, 11,
	11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 0, 0, 0, 0, 2,
	0, 15, 15, 15, 15, 15, 15, 11, 11, 11, 11, 11, 11, 11, 11, 11,
	11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Look-alikes of Latin letters, sorted by code point.  Upper-case forms are
 * folded before lower-casing because some differ from their lower case
 * (Greek capital ETA looks like H, small eta like n). */
static const struct { uint32_t from; unsigned char to; } glyphs[] = {
	{ 0x0131, 'i' }, { 0x0261, 'g' }, { 0x0269, 'i' }, { 0x026A, 'i' },
	{ 0x0391, 'a' }, { 0x0392, 'b' }, { 0x0395, 'e' }, { 0x0396, 'z' },
	{ 0x0397, 'h' }, { 0x0399, 'i' }, { 0x039A, 'k' }, { 0x039C, 'm' },
	{ 0x039D, 'n' }, { 0x039F, 'o' }, { 0x03A1, 'p' }, { 0x03A4, 't' },
	{ 0x03A5, 'y' }, { 0x03A7, 'x' }, { 0x03B1, 'a' }, { 0x03B2, 'b' },
	{ 0x03B3, 'y' }, { 0x03B5, 'e' }, { 0x03B7, 'n' }, { 0x03B9, 'i' },
	{ 0x03BA, 'k' }, { 0x03BD, 'v' }, { 0x03BF, 'o' }, { 0x03C1, 'p' },
	{ 0x03C4, 't' }, { 0x03C5, 'u' }, { 0x03C7, 'x' }, { 0x03C9, 'w' },
	{ 0x03F2, 'c' }, { 0x03F3, 'j' }, { 0x0405, 's' }, { 0x0406, 'i' },
	{ 0x0408, 'j' }, { 0x0410, 'a' }, { 0x0412, 'b' }, { 0x0415, 'e' },
	{ 0x041A, 'k' }, { 0x041C, 'm' }, { 0x041D, 'h' }, { 0x041E, 'o' },
	{ 0x0420, 'p' }, { 0x0421, 'c' }, { 0x0422, 't' }, { 0x0423, 'y' },
	{ 0x0425, 'x' }, { 0x0430, 'a' }, { 0x0432, 'b' }, { 0x0433, 'r' },
	{ 0x0435, 'e' }, { 0x043A, 'k' }, { 0x043C, 'm' }, { 0x043D, 'h' },
	{ 0x043E, 'o' }, { 0x043F, 'n' }, { 0x0440, 'p' }, { 0x0441, 'c' },
	{ 0x0442, 't' }, { 0x0443, 'y' }, { 0x0445, 'x' }, { 0x044C, 'b' },
	{ 0x0455, 's' }, { 0x0456, 'i' }, { 0x0457, 'i' }, { 0x0458, 'j' },
	{ 0x0475, 'v' }, { 0x04AF, 'y' }, { 0x04BB, 'h' }, { 0x04CF, 'l' },
	{ 0x0501, 'd' }, { 0x051B, 'q' }, { 0x051D, 'w' }, { 0x13A0, 'd' },
	{ 0x13A1, 'r' }, { 0x13A2, 't' }, { 0x13A5, 'i' }, { 0x13A9, 'y' },
	{ 0x13AA, 'a' }, { 0x13AB, 'j' }, { 0x13AC, 'e' }, { 0x13B3, 'w' },
	{ 0x13B7, 'm' }, { 0x13BB, 'h' }, { 0x13C0, 'g' }, { 0x13C2, 'h' },
	{ 0x13C3, 'z' }, { 0x13CF, 'b' }, { 0x13D2, 'r' }, { 0x13DA, 's' },
	{ 0x13DE, 'l' }, { 0x13DF, 'c' }, { 0x13E2, 'p' }, { 0x13E6, 'k' },
	{ 0x13F4, 'b' }, { 0x1D00, 'a' }, { 0x1D04, 'c' }, { 0x1D05, 'd' },
	{ 0x1D07, 'e' }, { 0x1D0A, 'j' }, { 0x1D0B, 'k' }, { 0x1D0D, 'm' },
	{ 0x1D0F, 'o' }, { 0x1D18, 'p' }, { 0x1D1B, 't' }, { 0x1D1C, 'u' },
	{ 0x1D20, 'v' }, { 0x1D21, 'w' }, { 0x1D22, 'z' },
};

static int
glyph(uint32_t cp)
{
	size_t	 lo = 0, hi = sizeof(glyphs) / sizeof(glyphs[0]), mid;

	if (cp < 0x0131 || cp > 0x1D22)
		return 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (glyphs[mid].from == cp)
			return glyphs[mid].to;
		if (glyphs[mid].from < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Characters that render as nothing (or only steer rendering): removed. */
static int
invisible(uint32_t cp)
{
	if (cp < 0x00AD)
		return 0;
	return cp == 0x00AD || cp == 0x034F || cp == 0x061C ||
	    cp == 0x115F || cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5 ||
	    (cp >= 0x180B && cp <= 0x180F) ||
	    (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 ||
	    (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || cp == 0xFFA0 ||
	    (cp >= 0xFFF0 && cp <= 0xFFF8) ||
	    (cp >= 0x1D173 && cp <= 0x1D17A) ||
	    (cp >= 0xE0000 && cp <= 0xE0FFF) ||
	    uc_is_general_category(cp, UC_CATEGORY_Cf);
}

/* Decodes one UTF-8 character; returns its length, *cp = -1 if invalid. */
static size_t
utf8_dec(const unsigned char *s, size_t len, int32_t *cp)
{
	uint32_t c = s[0], v;
	size_t	 n, k;

	if (c < 0xC2 || c > 0xF4)
		goto bad;
	n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (n > len)
		goto bad;
	v = c & (0x7F >> n);
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (s[k] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 ||
	    v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*cp = (int32_t)v;
	return n;
bad:
	*cp = -1;
	return 1;
}

static size_t
utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

#define DECOMP_MAX	64

/* Full compatibility decomposition (NFKD) of one code point. */
static size_t
decompose(uint32_t cp, ucs4_t *d, size_t max, int depth)
{
	ucs4_t	 one[UC_DECOMPOSITION_MAX_LENGTH];
	int	 tag, k, j;
	size_t	 n = 0;

	if (max == 0)
		return 0;
	k = depth < 8 ? uc_decomposition(cp, &tag, one) : -1;
	if (k <= 0) {
		d[0] = cp;
		return 1;
	}
	for (j = 0; j < k && n < max; j++)
		n += decompose(one[j], d + n, max - n, depth + 1);
	return n;
}

struct ocss_norm *
ocss_norm_new(void)
{
	return calloc(1, sizeof(struct ocss_norm));
}

void
ocss_norm_free(struct ocss_norm *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	free(n->out);
	free(n->an);
	free(n->seg);
	free(n->cand);
	free(n->runs);
	free(n->escs);
	free(n->leet);
	for (i = 0; i < OCSS_NORM_MAX_DEPTH; i++) {
		free(n->tmp[i].s);
		free(n->tmp[i].ms);
		free(n->tmp[i].me);
	}
	free(n);
}

static int
out_reserve(struct ocss_norm *n, size_t extra)
{
	size_t	 need = n->olen + extra + 1, ncap;
	char	*p;

	if (need <= n->ocap)
		return 0;
	ncap = n->ocap ? n->ocap : 256;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(n->out, ncap)) == NULL)
		return -1;
	n->out = p;
	n->ocap = ncap;
	return 0;
}

static int
anchor_grow(struct ocss_norm *n)
{
	struct anchor	*p;
	size_t		 ncap;

	ncap = n->ancap ? n->ancap * 2 : 64;
	if ((p = realloc(n->an, ncap * sizeof(*p))) == NULL)
		return -1;
	n->an = p;
	n->ancap = ncap;
	return 0;
}

static inline int
anchor_push(struct ocss_norm *n, size_t out, size_t in, size_t in_end,
    int kind)
{
	if (n->nan == n->ancap && anchor_grow(n) == -1)
		return -1;
	n->an[n->nan].out = out;
	n->an[n->nan].in = in;
	n->an[n->nan].in_end = in_end;
	n->an[n->nan].kind = kind;
	n->nan++;
	return 0;
}

/* Appends the folded form of one non-ASCII character (or an invalid byte,
 * cp < 0) at n->out + *ol.  Room for DECOMP_MAX * 4 + 1 bytes is reserved. */
static void
emit_cp(struct ocss_norm *n, int32_t cp, size_t *ol, size_t segstart)
{
	ucs4_t	 d[DECOMP_MAX];
	size_t	 nd, k;
	uint32_t x;
	int	 g, sep;

	if (cp < 0)
		goto separator;
	if (invisible((uint32_t)cp))
		return;
	/* CJK and Hangul syllables: letters with nothing to fold; fast. */
	if ((cp >= 0x3040 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3)) {
		*ol += utf8_put(n->out + *ol, (uint32_t)cp);
		return;
	}
	nd = decompose((uint32_t)cp, d, DECOMP_MAX, 0);
	for (k = 0; k < nd; k++) {
		x = d[k];
		sep = 0;
		if (x >= 0x80) {
			if (uc_is_general_category(x, UC_CATEGORY_Mn) ||
			    uc_is_general_category(x, UC_CATEGORY_Me) ||
			    invisible(x))
				continue;
			if ((g = glyph(x)) != 0)
				x = (uint32_t)g;
			else {
				x = uc_tolower(x);
				if ((g = glyph(x)) != 0)
					x = (uint32_t)g;
			}
		}
		if (x < 0x80) {
			if (amap[x])
				n->out[(*ol)++] = (char)amap[x];
			else
				sep = 1;
		} else if (uc_is_alnum(x))
			*ol += utf8_put(n->out + *ol, x);
		else
			sep = 1;
		if (sep && *ol > segstart && n->out[*ol - 1] != ' ')
			n->out[(*ol)++] = ' ';
	}
	return;
separator:
	if (*ol > segstart && n->out[*ol - 1] != ' ')
		n->out[(*ol)++] = ' ';
}

/* Bytes of x in ['0', '9'] (SWAR: eight bytes at once): the top bit of
 * each (exact per byte: nothing carries or borrows across bytes). */
#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS		(ONES * 0x80)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE64(x)		__builtin_bswap64(x)	/* byte i: bits 8i.. */
#else
#define LE64(x)		(x)
#endif
#define BYTE_AT(m)	((size_t)__builtin_ctzll(m) >> 3)

static inline uint64_t
digits(uint64_t x)
{
	uint64_t t = x & (ONES * 0x7F);

	return (ONES * (127 + '9' + 1) - t) & ~x & (t + ONES * (127 - '0' +
	    1)) & (ONES * 0x80);
}

/* Leet digits inside words that are mostly letters: 1gn0r3 -> ignore.
 * One byte for one byte, so the map is unchanged.  Most text has few
 * digits: skip to the next one eight bytes at a time. */
static void
leet_fold(char *s, size_t len)
{
	static const char lmap[10] = { 'o', 'i', 0, 'e', 'a', 's', 0, 't',
	    'b', 0 };
	size_t	 i = 0, w, j, k, letters, leet;
	uint64_t x, m;

	while (i < len) {
		while (i + 8 <= len) {
			memcpy(&x, s + i, 8);
			if ((m = digits(LE64(x))) != 0) {
				i += BYTE_AT(m);
				break;
			}
			i += 8;
		}
		while (i < len && (unsigned char)(s[i] - '0') > 9)
			i++;
		if (i >= len)
			break;
		for (w = i; w > 0 && s[w - 1] != ' '; w--)
			;
		letters = leet = 0;
		for (j = w; j < len && s[j] != ' '; j++) {
			if (s[j] >= 'a' && s[j] <= 'z')
				letters++;
			else if (s[j] >= '0' && s[j] <= '9' && lmap[s[j] - '0'])
				leet++;
		}
		if (leet > 0 && letters > 0 && letters >= leet && j - w >= 3)
			for (k = w; k < j; k++)
				if (s[k] >= '0' && s[k] <= '9' &&
				    lmap[s[k] - '0'])
					s[k] = lmap[s[k] - '0'];
		i = j;
	}
}

/*
 * Candidates for the derived-segment finders, noted while segment 0 is
 * normalised (the same loop already walks every byte): single letters or
 * digits (ASCII letters or digits between two bytes that are not; spaced-
 * letter runs start there), maximal runs of base64-alphabet bytes long
 * enough to decode (start, end pairs, without '=' padding), and every '%'
 * and '&'.
 */
static int
pos_grow(size_t **v, size_t *cap)
{
	size_t	*p, ncap;

	ncap = *cap ? *cap * 2 : 64;
	if ((p = realloc(*v, ncap * sizeof(*p))) == NULL)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

static inline int
push_pos(size_t **v, size_t *nv, size_t *cap, size_t x)
{
	if (*nv == *cap && pos_grow(v, cap) == -1)
		return -1;
	(*v)[(*nv)++] = x;
	return 0;
}

/* Output bytes [a, b) of segment 0 hold a digit next to a letter: noted,
 * merged with the range before when they touch. */
static int
leet_range(struct ocss_norm *n, size_t a, size_t b)
{
	if (n->nleet > 0 && n->leet[n->nleet - 1] >= a) {
		n->leet[n->nleet - 1] = b;
		return 0;
	}
	if (push_pos(&n->leet, &n->nleet, &n->leetcap, a) == -1 ||
	    push_pos(&n->leet, &n->nleet, &n->leetcap, b) == -1)
		return -1;
	return 0;
}

/*
 * leet_fold() on the words of s[0..len) that overlap [a, b) and end after
 * done, the end of the words folded for the ranges before (a word end).
 * Returns the new done.  Ranges come in order, so each byte is visited a
 * bounded number of times however many ranges one long word holds (a
 * megabyte of "a\xc3\xa9" is 350,000 ranges in one word: without done,
 * minutes).
 */
static size_t
leet_words(char *s, size_t len, size_t a, size_t b, size_t done)
{
	if (a < done)
		a = done;
	if (b < done)
		b = done;
	while (a > done && s[a - 1] != ' ')
		a--;
	while (b < len && s[b] != ' ')
		b++;
	leet_fold(s + a, b - a);
	return b;
}

/* A byte outside the base64 alphabet at i ends the run [*bs, i); the next
 * one may start at next. */
static inline int
run_end(struct ocss_norm *n, size_t *bs, size_t i, size_t next)
{
	if (i - *bs >= OCSS_NORM_MIN_B64 || i - *bs >= OCSS_NORM_MIN_HEX) {
		if (push_pos(&n->runs, &n->nruns, &n->runcap, *bs) == -1 ||
		    push_pos(&n->runs, &n->nruns, &n->runcap, i) == -1)
			return -1;
	}
	*bs = next;
	return 0;
}

#define is_alnum(c)	(cls[(unsigned char)(c)] & C_ALNUM)
#define is_b64(c)	(cls[(unsigned char)(c)] & C_B64)

/* The candidates at ASCII byte s[i] (segment 0, one byte at a time). */
static int
cand_byte(struct ocss_norm *n, const unsigned char *s, size_t len, size_t i,
    size_t *bs)
{
	unsigned c = s[i];

	if (is_alnum(c) && (i == 0 || !is_alnum(s[i - 1])) &&
	    (i + 1 == len || !is_alnum(s[i + 1])) &&
	    push_pos(&n->cand, &n->ncand, &n->candcap, i) == -1)
		return -1;
	if ((c == '%' || c == '&') &&
	    push_pos(&n->escs, &n->nescs, &n->esccap, i) == -1)
		return -1;
	if (!is_b64(c))
		return run_end(n, bs, i, i + 1);
	return 0;
}

/*
 * Eight ASCII bytes at a time (SWAR): a mask has the top bit of every
 * byte that qualifies.  The bytes are < 0x80, so no sum carries into the
 * next byte.
 */
/* HIGHS, LE64: above, with digits(). */
#define RANGE(x, lo, hi) \
	(((x) + ONES * (0x80 - (lo))) & ~((x) + ONES * (0x7F - (hi))) & HIGHS)
#define LAST_AT(m)	((size_t)(63 - __builtin_clzll(m)) >> 3)

/* The candidates in the ASCII block x = s[i..i+8) with alnum mask a. */
static int
cand_block(struct ocss_norm *n, const unsigned char *s, size_t len, size_t i,
    uint64_t x, uint64_t a, size_t *bs)
{
	uint64_t before, after, m, nb;

	before = (a << 8) | (i > 0 && is_alnum(s[i - 1]) ? 0x80 : 0);
	after = (a >> 8) | (i + 8 < len && is_alnum(s[i + 8]) ?
	    UINT64_C(0x80) << 56 : 0);
	for (m = a & ~before & ~after; m != 0; m &= m - 1)
		if (push_pos(&n->cand, &n->ncand, &n->candcap, i +
		    BYTE_AT(m)) == -1)
			return -1;
	if ((~a & HIGHS) == 0)
		return 0;	/* letters and digits: the run goes on */
	if ((~a & ~RANGE(x, ' ', ' ') & HIGHS) == 0) {
		nb = ~a & HIGHS;	/* spaces only */
	} else {
		for (m = RANGE(x, '%', '%') | RANGE(x, '&', '&'); m != 0;
		    m &= m - 1)
			if (push_pos(&n->escs, &n->nescs, &n->esccap, i +
			    BYTE_AT(m)) == -1)
				return -1;
		nb = ~(a | RANGE(x, '+', '+') | RANGE(x, '-', '-') |
		    RANGE(x, '/', '/') | RANGE(x, '_', '_')) & HIGHS;
		if (nb == 0)
			return 0;
	}
	/* Runs inside the block are shorter than 8: only the one that ends
	 * at its first non-base64 byte can be long. */
	if (run_end(n, bs, i + BYTE_AT(nb), i + BYTE_AT(nb) + 1) == -1)
		return -1;
	*bs = i + LAST_AT(nb) + 1;
	return 0;
}

#ifndef NORM_SSE2
#define NORM_SLACK	0
#endif

/* Closes the ASCII anchor that starts at output *ao, input *ai, at output
 * ol, input i (bounding its replay, or before a non-ASCII character, or
 * at the end); the next starts there.  Replayed, or LINEAR in the byte
 * loop of the tests. */
static int
close_ascii(struct ocss_norm *n, size_t *ao, size_t *ai, size_t ol, size_t i)
{
	if (ol > *ao && anchor_push(n, *ao, *ai, i, n->flags &
	    OCSS_NORM_BYTES ? A_LINEAR : A_REPLAY) == -1)
		return -1;
	*ao = ol;
	*ai = i;
	return 0;
}

/*
 * After a block or byte of segment 0 that left output [la, lb) (segment
 * offsets) and ends at output ol, input i: its leet range when it holds a
 * digit next to a letter (lw), and the ASCII anchor closed once it covers
 * REPLAY_MAX input bytes.
 */
static inline int
block_end(struct ocss_norm *n, int lw, size_t la, size_t lb, size_t *ao,
    size_t *ai, size_t ol, size_t i)
{
	if (lw && leet_range(n, la, lb) == -1)
		return -1;
	if (i - *ai >= REPLAY_MAX && close_ascii(n, ao, ai, ol, i) == -1)
		return -1;
	return 0;
}

#ifdef NORM_SSE2
/*
 * Sixteen ASCII bytes at a time (SSE2, baseline on x86-64): the same
 * output, anchors and candidates as two 8-byte blocks.  Masks hold one bit
 * a byte (bit k: byte i + k).  Writes up to 16 bytes past the output it
 * keeps (out_reserve() in norm_text() leaves room: NORM_SLACK).
 */
#define NORM_SLACK	32

static inline __m128i
in_range(__m128i v, char lo, char hi)	/* bytes < 0x80 */
{
	return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
	    _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}

_Static_assert(OCSS_NORM_MIN_B64 > 14 && OCSS_NORM_MIN_HEX > 14,
    "cand_block16() assumes no run inside a block is long enough");

#define EQ_MASK(v, c) \
	((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8((v), _mm_set1_epi8(c))))

/* The candidates of block v = s[i..i+16) with alnum mask a. */
static int
cand_block16(struct ocss_norm *n, const unsigned char *s, size_t len,
    size_t i, __m128i v, unsigned a, size_t *bs)
{
	unsigned	 before, after, m, nb;

	before = (a << 1) | (i > 0 && is_alnum(s[i - 1]) ? 1u : 0u);
	after = (a >> 1) | (i + 16 < len && is_alnum(s[i + 16]) ?
	    0x8000u : 0u);
	for (m = a & ~before & ~after & 0xFFFFu; m != 0; m &= m - 1)
		if (push_pos(&n->cand, &n->ncand, &n->candcap, i +
		    (size_t)__builtin_ctz(m)) == -1)
			return -1;
	if (a == 0xFFFFu)
		return 0;	/* letters and digits: the run goes on */
	if ((~a & ~EQ_MASK(v, ' ') & 0xFFFFu) == 0) {
		nb = ~a & 0xFFFFu;	/* spaces only */
	} else {
		for (m = EQ_MASK(v, '%') | EQ_MASK(v, '&'); m != 0;
		    m &= m - 1)
			if (push_pos(&n->escs, &n->nescs, &n->esccap, i +
			    (size_t)__builtin_ctz(m)) == -1)
				return -1;
		nb = ~(a | EQ_MASK(v, '+') | EQ_MASK(v, '-') |
		    EQ_MASK(v, '/') | EQ_MASK(v, '_')) & 0xFFFFu;
		if (nb == 0)
			return 0;
	}
	/* Runs inside the block are at most 14 bytes, shorter than both
	 * thresholds (the _Static_assert above): only the one that ends at
	 * its first non-base64 byte can be long. */
	if (run_end(n, bs, i + (size_t)__builtin_ctz(nb),
	    i + (size_t)__builtin_ctz(nb) + 1) == -1)
		return -1;
	*bs = i + (size_t)(31 - __builtin_clz(nb)) + 1;
	return 0;
}
#endif

/*
 * Normalises s[0..len) into a new segment.  Byte i of s is original byte i,
 * or, for a derived text (ms != NULL), original bytes [ms[i], me[i]).
 * Segment 0 goes 16 (SSE2) or eight bytes at a time while they are ASCII:
 * letters lower-cased, digits kept, other bytes one space (a space after a
 * space is absorbed); its ASCII stretches are replay anchors.
 */
static int
norm_text(struct ocss_norm *n, const unsigned char *s, size_t len,
    const size_t *ms, const size_t *me, enum ocss_norm_via via)
{
	struct seg	*sg;
	size_t		 segstart = n->olen, ol, i = 0, ao, ai, nb, a0 = n->nan,
			 bs = 0, j;
	int32_t		 cp;
	unsigned	 c, m;
	int		 cand = ms == NULL;	/* segment 0 */
	int		 swar = !(n->flags & OCSS_NORM_BYTES);
	/* a word anywhere may hold letters and digits (else: only those
	 * in n->leet; the byte loop of the tests folds them all) */
	int		 leet = !cand || !swar;
#ifdef NORM_SSE2
	int		 simd = swar && !(n->flags & OCSS_NORM_NOSIMD);
#endif
	uint64_t	 x, a, sep, ab, ob, m8;
	size_t		 lo0, done;
	int		 lw;
	char		*o;

	if (n->nseg == n->segcap) {
		size_t ncap = n->segcap ? n->segcap * 2 : 8;
		if ((sg = realloc(n->seg, ncap * sizeof(*sg))) == NULL)
			return -1;
		n->seg = sg;
		n->segcap = ncap;
	}
	if (out_reserve(n, len + NORM_SLACK + 1) == -1)
		return -1;
	ol = ao = segstart;
	ai = 0;
	if (cand)
		n->ncand = n->nruns = n->nescs = n->nleet = 0;
	o = n->out;
	while (i < len) {
#ifdef NORM_SSE2
		if (cand && simd && len - i >= 16) {
			__m128i	 v, lc, al, dg, an, ov;
			unsigned char tb[32];
			unsigned a16, sp, ab16, k, pos;

			v = _mm_loadu_si128((const __m128i *)(const void *)
			    (s + i));
			if (_mm_movemask_epi8(v) == 0) {
				lc = _mm_or_si128(v, _mm_set1_epi8(0x20));
				al = in_range(lc, 'a', 'z');
				dg = in_range(v, '0', '9');
				an = _mm_or_si128(al, dg);
				a16 = (unsigned)_mm_movemask_epi8(an);
				if (cand_block16(n, s, len, i, v, a16, &bs) == -1)
					return -1;
				/* a digit next to a letter (across the block's
				 * ends too): the leet pass has work */
				lw = 0;
				if ((k = (unsigned)_mm_movemask_epi8(dg)) != 0 &&
				    !leet) {
					sp = (unsigned)_mm_movemask_epi8(al);
					lw = (k & ((sp << 1) | (sp >> 1))) ||
					    ((k & 1) && i > 0 &&
					    (cls[s[i - 1]] & C_ALPHA)) ||
					    ((k & 0x8000u) && i + 16 < len &&
					    (cls[s[i + 16]] & C_ALPHA));
				}
				lo0 = ol;
				/* letters lower case, digits, the rest ' ' */
				ov = _mm_or_si128(_mm_or_si128(
				    _mm_and_si128(al, lc), _mm_and_si128(dg, v)),
				    _mm_andnot_si128(an, _mm_set1_epi8(' ')));
				sp = ~a16 & 0xFFFFu;
				ab16 = sp & ((sp << 1) | (ol == segstart ||
				    o[ol - 1] == ' ' ? 1u : 0u));
				if (ab16 == 0) {
					_mm_storeu_si128((__m128i *)(void *)
					    (o + ol), ov);
					ol += 16;
				} else {
					/* absorbed separators: each run of
					 * the other bytes copied 16 at once */
					_mm_storeu_si128((__m128i *)(void *)tb,
					    ov);
					for (m = ~ab16 & 0xFFFFu; m != 0;
					    m &= ~0u << (pos + k)) {
						pos = (unsigned)__builtin_ctz(m);
						k = (unsigned)__builtin_ctz(~(m >>
						    pos));
						memcpy(o + ol, tb + pos, 16);
						ol += k;
					}
				}
				i += 16;
				if (block_end(n, lw, lo0 - segstart, ol -
				    segstart, &ao, &ai, ol, i) == -1)
					return -1;
				continue;
			}
		}
#endif
		if (cand && swar && len - i >= 8) {
			memcpy(&x, s + i, 8);
			x = LE64(x);
			if ((x & HIGHS) == 0) {
				a = RANGE(x, 'a', 'z') | RANGE(x, 'A', 'Z');
				lw = (m8 = digits(x)) != 0 && ((m8 & ((a << 8) |
				    (a >> 8))) || ((m8 & 0x80) && i > 0 &&
				    (cls[s[i - 1]] & C_ALPHA)) || ((m8 >> 63) &&
				    i + 8 < len && (cls[s[i + 8]] & C_ALPHA)));
				lo0 = ol;
				a |= RANGE(x, '0', '9');
				if (cand_block(n, s, len, i, x, a, &bs) == -1)
					return -1;
				/* letters lower case, the rest spaces */
				ob = x + (RANGE(x, 'A', 'Z') >> 2);
				sep = ~a & HIGHS;
				ob = (ob & ~((sep >> 7) * 0xFF)) | (sep >> 2);
				ab = sep & ((sep << 8) |
				    (ol == segstart || o[ol - 1] == ' ' ?
				    0x80 : 0));
				ob = LE64(ob);
				memcpy(o + ol, &ob, 8);
				ob = LE64(ob);
				if (ab == 0)
					ol += 8;
				else {	/* absorbed separators: dropped */
					j = BYTE_AT(ab);
					ol += j;
					for (; j < 8; j++)
						if (!((ab >> (8 * j + 7)) & 1))
							o[ol++] = (char)(ob >>
							    (8 * j));
				}
				i += 8;
				if (block_end(n, lw, lo0 - segstart, ol -
				    segstart, &ao, &ai, ol, i) == -1)
					return -1;
				continue;
			}
		}
		c = s[i];
		lo0 = ol;
		if (c < 0x80 && cand) {
			if (cand_byte(n, s, len, i, &bs) == -1)
				return -1;
			if ((m = amap[c]) != 0)
				o[ol++] = (char)m;
			else if (ol > segstart && o[ol - 1] != ' ')
				o[ol++] = ' ';
			else if (!swar) {
				/* absorbed: ends the byte loop's linear
				 * anchor; the next starts after it */
				if (close_ascii(n, &ao, &ai, ol, i) == -1)
					return -1;
				ai = i + 1;
			}
			lw = c - '0' < 10u && ((i > 0 && (cls[s[i - 1]] &
			    C_ALPHA)) || (i + 1 < len && (cls[s[i + 1]] &
			    C_ALPHA)));
			i++;
			if (block_end(n, lw, lo0 - segstart, ol - segstart,
			    &ao, &ai, ol, i) == -1)
				return -1;
			continue;
		}
		if (c < 0x80) {
			cp = (int32_t)c;
			nb = 1;
		} else
			nb = utf8_dec(s + i, len - i, &cp);
		if (cand && run_end(n, &bs, i, i + nb) == -1)
			return -1;
		n->olen = ol;
		if (out_reserve(n, (len - i) + DECOMP_MAX * 4 + 2) == -1)
			return -1;
		o = n->out;
		if (close_ascii(n, &ao, &ai, ol, i) == -1)
			return -1;
		if (cp >= 0 && cp < 0x80) {
			if (amap[cp])
				o[ol++] = (char)amap[cp];
			else if (ol > segstart && o[ol - 1] != ' ')
				o[ol++] = ' ';
		} else
			emit_cp(n, cp, &ol, segstart);
		if (ol > ao && anchor_push(n, ao, ms ? ms[i] : i,
		    ms ? me[i + nb - 1] : i + nb, A_SPAN) == -1)
			return -1;
		/* a non-ASCII character: its word, or the word it joins
		 * when it leaves nothing (zero-width), may be leet */
		if (cand && c >= 0x80 && leet_range(n, ao - segstart, ol -
		    segstart) == -1)
			return -1;
		i += nb;
		ao = ol;
		ai = i;
	}
	if (close_ascii(n, &ao, &ai, ol, len) == -1)
		return -1;
	if (cand && run_end(n, &bs, len, len) == -1)
		return -1;
	o[ol] = '\0';
	n->olen = ol + 1;	/* the next segment after the NUL */
	/* Only a word with a digit next to a letter, or with a non-ASCII
	 * character, can hold both: segment 0 folds the words of those
	 * ranges, derived segments (and the byte loop) all words. */
	if (leet)
		leet_fold(o + segstart, ol - segstart);
	else
		for (j = 0, done = 0; j < n->nleet; j += 2)
			done = leet_words(o + segstart, ol - segstart,
			    n->leet[j], n->leet[j + 1], done);
	sg = &n->seg[n->nseg++];
	sg->start = segstart;
	sg->end = ol;
	sg->a0 = a0;
	sg->na = n->nan - a0;
	sg->via = via;
	return 0;
}

static int
b64val(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return (int)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (int)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (int)(c - '0' + 52);
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decoded text is worth scanning when it is valid UTF-8 text: no control
 * characters, and at least half of it letters, digits or spaces. */
static int
textlike(const char *s, size_t len)
{
	const uint8_t	*p = (const uint8_t *)s, *e = p + len;
	size_t		 good = 0, all = 0, letters = 0;
	ucs4_t		 cp;
	int		 k;

	if (len < 4 || u8_check(p, len) != NULL)
		return 0;
	while (p < e) {
		k = u8_mbtouc(&cp, p, (size_t)(e - p));
		p += k;
		all++;
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    cp == 0x7F || cp == 0xFFFD)
			return 0;
		if (cp == ' ' || cp == '\n')
			good++;
		else if (cp < 0x80 ? is_alnum(cp) : uc_is_alnum(cp)) {
			good++;
			letters++;
		}
	}
	return letters >= 4 && good * 2 >= all;
}

static void
dt_reset(struct dtext *t)
{
	t->len = 0;
}

/* Appends k bytes to t, all from original bytes [os, oe). */
static int
dt_put(struct dtext *t, const char *b, size_t k, size_t os, size_t oe)
{
	size_t	 ncap, i;
	char	*p;
	size_t	*q;

	if (t->len + k + 1 > t->cap) {
		ncap = t->cap ? t->cap : 256;
		while (ncap < t->len + k + 1)
			ncap *= 2;
		if ((p = realloc(t->s, ncap)) == NULL)
			return -1;
		t->s = p;
		if ((q = realloc(t->ms, ncap * sizeof(size_t))) == NULL)
			return -1;
		t->ms = q;
		if ((q = realloc(t->me, ncap * sizeof(size_t))) == NULL)
			return -1;
		t->me = q;
		t->cap = ncap;
	}
	for (i = 0; i < k; i++) {
		t->s[t->len] = b[i];
		t->ms[t->len] = os;
		t->me[t->len] = oe;
		t->len++;
	}
	t->s[t->len] = '\0';
	return 0;
}

/* The source text being searched for encodings: its bytes and where they
 * came from (pms == NULL: the original text itself). */
struct src {
	const unsigned char	*s;
	size_t			 len;
	const size_t		*pms, *pme;
};

static size_t
src_s(const struct src *x, size_t a)
{
	return x->pms ? x->pms[a] : a;
}

static size_t
src_e(const struct src *x, size_t b)	/* b exclusive, b > 0 */
{
	return x->pme ? x->pme[b - 1] : b;
}

static int find_derived(struct ocss_norm *, const struct src *, int);

/* tmp[depth] holds a decoded text: scan it if it reads as text. */
static int
add_derived(struct ocss_norm *n, int depth, enum ocss_norm_via via)
{
	struct dtext	*t = &n->tmp[depth];
	struct src	 x;

	if (!textlike(t->s, t->len) || t->len > n->budget ||
	    n->nseg >= MAX_SEGS)
		return 0;
	n->budget -= t->len;
	if (norm_text(n, (const unsigned char *)t->s, t->len, t->ms, t->me,
	    via) == -1)
		return -1;
	if (depth + 1 >= OCSS_NORM_MAX_DEPTH)
		return 0;
	x.s = (const unsigned char *)t->s;
	x.len = t->len;
	x.pms = t->ms;
	x.pme = t->me;
	return find_derived(n, &x, depth + 1);
}

/* An escape at s[i]: its length and decoded bytes, 0 if none. */
static size_t
escape_at(const unsigned char *s, size_t len, size_t i, int entity,
    char *dec, size_t *declen)
{
	static const struct { const char *name; const char *val; } named[] = {
		{ "amp", "&" }, { "lt", "<" }, { "gt", ">" },
		{ "quot", "\"" }, { "apos", "'" }, { "nbsp", " " },
	};
	size_t	 j, k;
	uint32_t v = 0;
	int	 h;

	if (!entity) {
		if (s[i] != '%' || i + 2 >= len || ocss_hexval(s[i + 1]) < 0 ||
		    ocss_hexval(s[i + 2]) < 0)
			return 0;
		dec[0] = (char)(ocss_hexval(s[i + 1]) * 16 + ocss_hexval(s[i + 2]));
		*declen = 1;
		return 3;
	}
	if (s[i] != '&' || i + 2 >= len)
		return 0;
	if (s[i + 1] == '#') {
		j = i + 2;
		if (j < len && (s[j] | 0x20) == 'x') {
			for (j++, k = 0; j < len && k < 7 &&
			    (h = ocss_hexval(s[j])) >= 0; j++, k++)
				v = v * 16 + (uint32_t)h;
		} else {
			for (k = 0; j < len && k < 8 && s[j] >= '0' &&
			    s[j] <= '9'; j++, k++)
				v = v * 10 + (s[j] - '0');
		}
		if (k == 0 || v == 0 || v > 0x10FFFF ||
		    (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		if (j < len && s[j] == ';')
			j++;
		*declen = utf8_put(dec, v);
		return j - i;
	}
	for (k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
		j = strlen(named[k].name);
		if (i + 1 + j < len && memcmp(s + i + 1, named[k].name, j) == 0 &&
		    s[i + 1 + j] == ';') {
			*declen = strlen(named[k].val);
			memcpy(dec, named[k].val, *declen);
			return j + 2;
		}
	}
	return 0;
}

#define ESC_GAP		24	/* bytes between escapes of one run */
#define ESC_CONTEXT	64	/* plain text kept on each side of a run */

/*
 * A run of escapes starting at x->s[*ip], at most ESC_GAP bytes apart.  With
 * OCSS_NORM_MIN_ESC escapes or more, the run and some context on each side
 * are decoded into tmp[depth], every byte mapped to where it came from.
 */
static int
try_escapes(struct ocss_norm *n, const struct src *x, size_t *ip,
    int depth, int entity)
{
	struct dtext	*t = &n->tmp[depth];
	const unsigned char *s = x->s;
	char		 dec[8];
	size_t		 i = *ip, j = i, last = i, dl, el, count = 0, a, b;

	while (j < x->len && j - last <= ESC_GAP) {
		if ((el = escape_at(s, x->len, j, entity, dec, &dl)) > 0) {
			count++;
			j += el;
			last = j;
		} else
			j++;
	}
	if (count < OCSS_NORM_MIN_ESC) {
		*ip = i + 1;
		return 0;
	}
	a = i > ESC_CONTEXT ? i - ESC_CONTEXT : 0;
	b = x->len - last > ESC_CONTEXT ? last + ESC_CONTEXT : x->len;
	while (a > 0 && a < i && (s[a] & 0xC0) == 0x80)	/* char boundary */
		a--;
	while (b < x->len && (s[b] & 0xC0) == 0x80)
		b++;
	dt_reset(t);
	for (j = a; j < b; ) {
		el = escape_at(s, x->len, j, entity, dec, &dl);
		if (el == 0) {
			dl = 1;
			dec[0] = (char)s[j];
			el = 1;
		}
		if (dt_put(t, dec, dl, src_s(x, j), src_e(x, j + el)) == -1)
			return -1;
		j += el;
	}
	*ip = last;
	return add_derived(n, depth, entity ? OCSS_VIA_ENTITY :
	    OCSS_VIA_PERCENT);
}

/* A base64 or hex run x->s[rs..re): decoded as a whole; every decoded byte
 * maps to the whole run (stripping part of an encoding makes no sense). */
static int
try_run(struct ocss_norm *n, const struct src *x, size_t rs, size_t re,
    int depth)
{
	struct dtext	*t = &n->tmp[depth];
	const unsigned char *s = x->s;
	size_t		 i, hex = 0, len = re - rs, os, oe;
	uint32_t	 acc = 0;
	int		 bits = 0, v;
	char		 c;

	os = src_s(x, rs);
	oe = src_e(x, re);
	for (i = rs; i < re; i++)
		if (ocss_hexval(s[i]) >= 0)
			hex++;
	dt_reset(t);
	if (hex == len && len >= OCSS_NORM_MIN_HEX && len % 2 == 0) {
		for (i = rs; i < re; i += 2) {
			c = (char)(ocss_hexval(s[i]) * 16 + ocss_hexval(s[i + 1]));
			if (dt_put(t, &c, 1, os, oe) == -1)
				return -1;
		}
		return add_derived(n, depth, OCSS_VIA_HEX);
	}
	if (len < OCSS_NORM_MIN_B64)
		return 0;
	for (i = rs; i < re; i++) {
		if ((v = b64val(s[i])) < 0)
			continue;	/* '=' padding */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (char)((acc >> bits) & 0xFF);
			if (dt_put(t, &c, 1, os, oe) == -1)
				return -1;
		}
	}
	return add_derived(n, depth, OCSS_VIA_BASE64);
}

static int find_derived_from(struct ocss_norm *, const struct src *, int,
    size_t);

static int
find_derived(struct ocss_norm *n, const struct src *x, int depth)
{
	return find_derived_from(n, x, depth, 0);
}

/* Encoded runs in x: each decoded into tmp[depth] as a derived segment. */
static int
find_derived_from(struct ocss_norm *n, const struct src *x, int depth,
    size_t i)
{
	const unsigned char *s = x->s;
	size_t	 j, k, len = x->len;

	while (i < len) {
		if (n->nseg >= MAX_SEGS)
			return 0;
		if (s[i] == '%' || s[i] == '&') {
			if (try_escapes(n, x, &i, depth, s[i] == '&') == -1)
				return -1;
			continue;
		}
		if (!is_b64(s[i])) {
			i++;
			continue;
		}
		for (j = i; j < len && is_b64(s[j]); j++)
			;
		if (j - i < OCSS_NORM_MIN_B64 && j - i < OCSS_NORM_MIN_HEX) {
			i = j;
			continue;
		}
		for (k = 0; k < 2 && j < len && s[j] == '='; k++)
			j++;
		if (j - i >= OCSS_NORM_MIN_B64 || j - i >= OCSS_NORM_MIN_HEX)
			if (try_run(n, x, i, j, depth) == -1)
				return -1;
		i = j;
	}
	return 0;
}

/* Gap of separators after a single letter: 1..4 bytes, no newline (4:
 * " .  " between spaced sentences). */
static inline size_t
gap_at(const unsigned char *s, size_t len, size_t i)
{
	size_t	 j = i;

	while (j < len && j - i < 4 && !is_alnum(s[j]) && s[j] != '\n' &&
	    s[j] < 0x80)
		j++;
	if (j == i || j >= len || !is_alnum(s[j]) ||
	    (j + 1 < len && is_alnum(s[j + 1])))
		return 0;
	return j - i;
}

/* s p a c e d  o u t letters: joined, a space where the gap differs from
 * the letters' gap, the first of the shortest gaps (not simply the first
 * gap: "x -- i g n o r e" and sentence breaks of 4 bytes would make every
 * other gap a word break).  The run that starts with the single letter
 * s[i]; returns where to go on. */
static int
spaced_at(struct ocss_norm *n, const unsigned char *s, size_t len, size_t i,
    size_t *next)
{
	struct dtext	*t = &n->tmp[0];
	size_t		 j, g, count, g0, r0, start;
	char		 c;

	start = i;
	j = i;
	count = 1;
	if ((g0 = gap_at(s, len, j + 1)) == 0) {
		*next = j + 1;	/* a single letter alone: the common case */
		return 0;
	}
	r0 = j + 1;		/* where the letters' gap is */
	while ((g = gap_at(s, len, j + 1)) > 0) {
		if (g < g0) {
			g0 = g;
			r0 = j + 1;
		}
		j += 1 + g;
		count++;
	}
	*next = j + 1;
	if (count < OCSS_NORM_MIN_SPACED)
		return 0;
	dt_reset(t);
	for (i = start; i <= j; ) {
		c = (char)s[i];
		if (dt_put(t, &c, 1, i, i + 1) == -1)
			return -1;
		if (i == j)
			break;
		g = gap_at(s, len, i + 1);
		if ((g != g0 || memcmp(s + i + 1, s + r0, g) != 0)
		    && dt_put(t, " ", 1, i + 1, i + 1 + g) == -1)
			return -1;
		i += 1 + g;
	}
	if (t->len <= n->budget && n->nseg < MAX_SEGS) {
		n->budget -= t->len;
		if (norm_text(n, (const unsigned char *)t->s, t->len,
		    t->ms, t->me, OCSS_VIA_SPACED) == -1)
			return -1;
	}
	return 0;
}

/*
 * The derived segments of the original text exactly as find_derived() and
 * a spaced-letter scan byte by byte would find them, but visiting only the
 * candidates norm_text() noted: escape characters, long base64-alphabet
 * runs (a run find_derived() enters in the middle, after a run of escapes,
 * is entered there too), single letters.
 */
static int
derive_top(struct ocss_norm *n, const unsigned char *s, size_t len)
{
	struct src	 x;
	size_t		 r = 0, e = 0, pos = 0, rs, re, k, next = 0;

	x.s = s;
	x.len = len;
	x.pms = x.pme = NULL;
	for (;;) {
		if (n->nseg >= MAX_SEGS)
			return 0;
		while (r < n->nruns && n->runs[r + 1] <= pos)
			r += 2;
		while (e < n->nescs && n->escs[e] < pos)
			e++;
		rs = r < n->nruns ? (n->runs[r] > pos ? n->runs[r] : pos) :
		    len;
		if (e < n->nescs && n->escs[e] < rs) {
			pos = n->escs[e];
			if (try_escapes(n, &x, &pos, 0, s[pos] == '&') == -1)
				return -1;
			continue;
		}
		if (r >= n->nruns)
			break;
		re = n->runs[r + 1];
		if (re - rs < OCSS_NORM_MIN_B64 && re - rs < OCSS_NORM_MIN_HEX) {
			pos = re;
			continue;
		}
		for (k = 0; k < 2 && re < len && s[re] == '='; k++)
			re++;
		if (try_run(n, &x, rs, re, 0) == -1)
			return -1;
		pos = re;
	}
	for (k = 0; k < n->ncand; k++) {
		if (n->nseg >= MAX_SEGS)
			return 0;
		if (n->cand[k] < next)
			continue;
		if (spaced_at(n, s, len, n->cand[k], &next) == -1)
			return -1;
	}
	return 0;
}

int
ocss_norm_run(struct ocss_norm *n, const char *text, size_t len,
    unsigned flags)
{
	const unsigned char *s = (const unsigned char *)text;

	n->src = s;
	n->olen = n->nan = n->nseg = 0;
	n->budget = len * 2 + 65536;
	n->flags = flags;
	if (norm_text(n, s, len, NULL, NULL, OCSS_VIA_TEXT) == -1)
		return -1;
	if (flags & OCSS_NORM_NODERIVED)
		return 0;
	return derive_top(n, s, len);
}

size_t
ocss_norm_nsegs(const struct ocss_norm *n)
{
	return n->nseg;
}

const char *
ocss_norm_seg(const struct ocss_norm *n, size_t i, size_t *len,
    enum ocss_norm_via *via)
{
	if (i >= n->nseg) {
		*len = 0;
		return "";
	}
	*len = n->seg[i].end - n->seg[i].start;
	if (via)
		*via = n->seg[i].via;
	return n->out + n->seg[i].start;
}

/* The anchor holding output byte p of segment sg. */
static const struct anchor *
find_anchor(const struct ocss_norm *n, const struct seg *sg, size_t p)
{
	size_t	 lo = sg->a0, hi = sg->a0 + sg->na, mid;

	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (n->an[mid].out <= p)
			lo = mid;
		else
			hi = mid;
	}
	return &n->an[lo];
}

/* The input byte of output byte p in ASCII anchor a: norm_text()'s rule
 * for ASCII bytes of segment 0 run again from the anchor's start (the
 * output before it is final, and the leet fold never makes or removes a
 * space). */
static size_t
replay(const struct ocss_norm *n, const struct seg *sg,
    const struct anchor *a, size_t p)
{
	const unsigned char *s = n->src;
	size_t		 i, o = a->out;

	for (i = a->in; i < a->in_end; i++) {
		if (amap[s[i] & 0x7F] != 0 || (o > sg->start &&
		    n->out[o - 1] != ' ')) {
			if (o == p)
				return i;
			o++;
		}
	}
	return a->in_end - 1;	/* not reached */
}

/* The input byte of output byte p in ASCII anchor a (replayed or
 * linear). */
static size_t
byte_in(const struct ocss_norm *n, const struct seg *sg,
    const struct anchor *a, size_t p)
{
	return a->kind == A_REPLAY ? replay(n, sg, a, p) : a->in + (p - a->out);
}

void
ocss_norm_map(const struct ocss_norm *n, size_t seg, size_t start,
    size_t end, size_t *os, size_t *oe)
{
	const struct seg	*sg;
	const struct anchor	*a;
	size_t			 p, q;

	*os = *oe = 0;
	if (seg >= n->nseg || n->seg[seg].na == 0)
		return;
	sg = &n->seg[seg];
	if (end <= start)
		end = start + 1;
	p = sg->start + start;
	q = sg->start + end - 1;
	if (q >= sg->end)
		q = sg->end - 1;
	if (p > q)
		p = q;
	a = find_anchor(n, sg, p);
	*os = a->kind == A_SPAN ? a->in : byte_in(n, sg, a, p);
	a = find_anchor(n, sg, q);
	*oe = a->kind == A_SPAN ? a->in_end : byte_in(n, sg, a, q) + 1;
}

int
ocss_norm_same(const struct ocss_norm *a, const struct ocss_norm *b)
{
	const struct seg *sa, *sb;
	size_t		 i, k, len, s1, e1, s2, e2;

	if (a->nseg != b->nseg)
		return 0;
	for (i = 0; i < a->nseg; i++) {
		sa = &a->seg[i];
		sb = &b->seg[i];
		len = sa->end - sa->start;
		if (sb->end - sb->start != len || sa->via != sb->via ||
		    memcmp(a->out + sa->start, b->out + sb->start, len) != 0)
			return 0;
		for (k = 0; k < len; k++) {
			ocss_norm_map(a, i, k, k + 1, &s1, &e1);
			ocss_norm_map(b, i, k, k + 1, &s2, &e2);
			if (s1 != s2 || e1 != e2)
				return 0;
			ocss_norm_map(a, i, k, len, &s1, &e1);
			ocss_norm_map(b, i, k, len, &s2, &e2);
			if (s1 != s2 || e1 != e2)
				return 0;
		}
	}
	return 1;
}

const char *
ocss_norm_via_name(enum ocss_norm_via v)
{
	switch (v) {
	case OCSS_VIA_TEXT:	return "text";
	case OCSS_VIA_BASE64:	return "base64";
	case OCSS_VIA_HEX:	return "hex";
	case OCSS_VIA_PERCENT:	return "percent";
	case OCSS_VIA_ENTITY:	return "entity";
	case OCSS_VIA_SPACED:	return "spaced";
	}
	return "?";
}
