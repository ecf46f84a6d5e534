/*
 * The skill scanner's one pass over a syntax tree.
 *
 * A file costs its parse plus one pre-order walk.  The walk keeps a flat,
 * per-file symbol table of what names are bound to: constant strings,
 * symbolic API paths ("child_process.exec", "fs.promises.rm", "eval") and
 * taint (data derived from the whole process.env or from a credential file).
 * Declarations, destructuring, imports and assignments update the table in
 * document order; a small evaluator folds constant expressions (string and
 * template concatenation, escapes, String.fromCharCode, atob/Buffer base64
 * and hex, split/reverse/join, replace) and resolves member chains, computed
 * members with constant keys, .call/.apply/.bind and Reflect.  Each call and
 * new expression is then matched against the sink table by its resolved path.
 *
 * Deliberate limits (docs/DETECTION.md): no scopes (a name means the same in
 * every function of a file), no flow through function parameters, returns,
 * object properties or other files, no loops or runtime values.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tree_sitter/api.h>

#include "skillscan_int.h"

const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);

#define S(e, s) s,
const char *const ss_check_names[SS_CK_MAX] = { SS_CHECKS(S) };
#undef S

/* Node kinds we look at; everything else is K_OTHER. */
#define KINDS(X) \
	X(IDENT, "identifier") \
	X(PROP_IDENT, "property_identifier") \
	X(PRIV_PROP_IDENT, "private_property_identifier") \
	X(SHORTHAND_PROP, "shorthand_property_identifier") \
	X(SHORTHAND_PAT, "shorthand_property_identifier_pattern") \
	X(STRING, "string") \
	X(TEMPLATE, "template_string") \
	X(TEMPLATE_SUBST, "template_substitution") \
	X(NUMBER, "number") \
	X(BINARY, "binary_expression") \
	X(PAREN, "parenthesized_expression") \
	X(SEQUENCE, "sequence_expression") \
	X(MEMBER, "member_expression") \
	X(SUBSCRIPT, "subscript_expression") \
	X(CALL, "call_expression") \
	X(NEW, "new_expression") \
	X(AWAIT, "await_expression") \
	X(AS, "as_expression") \
	X(SATISFIES, "satisfies_expression") \
	X(NONNULL, "non_null_expression") \
	X(TYPE_ASSERTION, "type_assertion") \
	X(ASSIGN, "assignment_expression") \
	X(AUG_ASSIGN, "augmented_assignment_expression") \
	X(DECLARATOR, "variable_declarator") \
	X(OBJECT, "object") \
	X(PAIR, "pair") \
	X(ARRAY, "array") \
	X(SPREAD, "spread_element") \
	X(OBJECT_PATTERN, "object_pattern") \
	X(PAIR_PATTERN, "pair_pattern") \
	X(OBJ_ASSIGN_PATTERN, "object_assignment_pattern") \
	X(IMPORT_STMT, "import_statement") \
	X(IMPORT_CLAUSE, "import_clause") \
	X(NAMESPACE_IMPORT, "namespace_import") \
	X(NAMED_IMPORTS, "named_imports") \
	X(IMPORT_SPEC, "import_specifier") \
	X(IMPORT_REQUIRE, "import_require_clause") \
	X(IMPORT, "import") \
	X(FUNCTION_EXPR, "function_expression") \
	X(FUNCTION, "function") \
	X(ARROW, "arrow_function") \
	X(CLASS, "class") \
	X(TERNARY, "ternary_expression") \
	X(TRUE, "true") \
	X(COMPUTED_PROP, "computed_property_name") \
	X(ERROR, "ERROR") \
	X(COMMENT, "comment") \
	X(UNARY, "unary_expression")

#define KE(e, s) K_##e,
enum ss_kind { K_OTHER, KINDS(KE) K_MAX };
#undef KE
#define KN(e, s) s,
static const char *const kind_names[K_MAX] = { NULL, KINDS(KN) };
#undef KN

enum fld { F_FUNCTION, F_ARGUMENTS, F_OBJECT, F_PROPERTY, F_INDEX, F_NAME,
	F_VALUE, F_LEFT, F_RIGHT, F_OPERATOR, F_SOURCE, F_ALIAS, F_KEY,
	F_CONSTRUCTOR, F_ARGUMENT, F_NFLD };
static const char *const fld_names[F_NFLD] = { "function", "arguments",
	"object", "property", "index", "name", "value", "left", "right",
	"operator", "source", "alias", "key", "constructor", "argument" };

/* ------------------------------------------------------------------ */
/* Values */

enum vk { VK_UNK, VK_STR, VK_PATH, VK_ARR };

#define VF_PARTIAL	0x001	/* STR: contains UNK_CH for unknown parts */
#define VF_DECODED	0x002	/* from base64 / hex / percent decoding */
#define VF_CHARCODE	0x004	/* from String.fromCharCode */
#define VF_ESCAPED	0x008	/* literal with \x / \u / octal escapes */
#define VF_CONCAT	0x010	/* built by concatenation / join / replace */
#define VF_ENV		0x020	/* taint: the whole process.env */
#define VF_SECRET	0x040	/* taint: content of a credential file */
#define VF_HIDDEN	0x080	/* PATH reached through a computed key */
#define VF_BRACKET	0x100	/* PATH reached through obj['literal'] */
#define VF_LITERAL	0x200	/* a plain string literal */
#define VF_NUM		0x400	/* a number */
#define VF_TAINT	(VF_ENV | VF_SECRET)
#define VF_BUILT	(VF_DECODED | VF_CHARCODE | VF_ESCAPED | VF_CONCAT)

#define UNK_CH	'\x1f'	/* unknown part of a partially known string */
#define SEP_CH	'\x1e'	/* separates array elements */
#define STRMAX	4096
#define DEPTHMAX 40
#define ARENAMAX (64u << 20)
#define MAXARGS	16

struct val {
	enum vk		 k;
	unsigned	 f;
	const char	*s;
	size_t		 n;
};

static const struct val UNK = { VK_UNK, 0, NULL, 0 };

struct chunk {
	struct chunk	*next;
	size_t		 used, cap;
	char		 data[];
};

struct sym {
	const char	*name;
	size_t		 nlen;
	struct val	 v;
};

struct ctx {
	struct ocss_skillscan		*sc;
	struct ocss_skillscan_report	*rep;
	const char	*file;
	const char	*src;
	size_t		 len;
	const uint16_t	*kind;
	uint32_t	 nsym;
	const TSFieldId	*fld;
	struct chunk	*arena;
	size_t		 arena_total;
	struct sym	*syms;
	size_t		 nsyms, capsyms;
	int		 oom;
	int		 budget;	/* oom because of ARENAMAX */
};

static void *
aalloc(struct ctx *c, size_t n)
{
	struct chunk	*k = c->arena;
	size_t		 cap;
	void		*p;

	n = (n + 7) & ~(size_t)7;
	if (k == NULL || k->cap - k->used < n) {
		cap = n > 65536 ? n : 65536;
		if (c->arena_total + cap > ARENAMAX) {
			c->budget = 1;
			c->oom = 1;
			return NULL;
		}
		if ((k = malloc(sizeof(*k) + cap)) == NULL) {
			c->oom = 1;
			return NULL;
		}
		c->arena_total += cap;
		k->used = 0;
		k->cap = cap;
		k->next = c->arena;
		c->arena = k;
	}
	p = k->data + k->used;
	k->used += n;
	return p;
}

static void
arena_free(struct ctx *c)
{
	struct chunk *k, *next;

	for (k = c->arena; k; k = next) {
		next = k->next;
		free(k);
	}
	c->arena = NULL;
}

static struct val
mkstr(struct ctx *c, const char *s, size_t n, unsigned f)
{
	struct val	 v = UNK;
	char		*p;

	if (n > STRMAX) {
		n = STRMAX;
		f |= VF_PARTIAL;
	}
	if ((p = aalloc(c, n + 1)) == NULL)
		return UNK;
	memcpy(p, s, n);
	p[n] = '\0';
	v.k = VK_STR;
	v.f = f;
	v.s = p;
	v.n = n;
	return v;
}

static struct val
mkpath(struct ctx *c, const char *s, size_t n, unsigned f)
{
	struct val v = mkstr(c, s, n, f);

	if (v.k == VK_STR)
		v.k = VK_PATH;
	return v;
}

static int
streq(const struct val *v, const char *s)
{
	return v->s != NULL && v->n == strlen(s) && memcmp(v->s, s, v->n) == 0;
}

static int
exact(const struct val *v)
{
	return v->k == VK_STR && !(v->f & VF_PARTIAL);
}

/* ------------------------------------------------------------------ */
/* Symbol table: flat per file, open addressing. */

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct sym *
sym_find(struct ctx *c, const char *name, size_t n, int create)
{
	size_t		 i, mask;
	struct sym	*ns, *old;
	size_t		 oldcap, j;

	if (c->capsyms == 0 || (create && (c->nsyms + 1) * 2 > c->capsyms)) {
		oldcap = c->capsyms;
		old = c->syms;
		c->capsyms = oldcap ? oldcap * 2 : 256;
		if ((ns = calloc(c->capsyms, sizeof(*ns))) == NULL) {
			c->capsyms = oldcap;
			c->oom = 1;
			return NULL;
		}
		c->syms = ns;
		mask = c->capsyms - 1;
		for (j = 0; j < oldcap; j++) {
			if (old[j].name == NULL)
				continue;
			i = hash(old[j].name, old[j].nlen) & mask;
			while (ns[i].name != NULL)
				i = (i + 1) & mask;
			ns[i] = old[j];
		}
		free(old);
	}
	mask = c->capsyms - 1;
	i = hash(name, n) & mask;
	while (c->syms[i].name != NULL) {
		if (c->syms[i].nlen == n && memcmp(c->syms[i].name, name, n) == 0)
			return &c->syms[i];
		i = (i + 1) & mask;
	}
	if (!create)
		return NULL;
	if ((c->syms[i].name = aalloc(c, n)) == NULL)
		return NULL;
	memcpy((char *)c->syms[i].name, name, n);
	c->syms[i].nlen = n;
	c->syms[i].v = UNK;
	c->nsyms++;
	return &c->syms[i];
}

static void
bind(struct ctx *c, const char *name, size_t n, struct val v)
{
	struct sym *s;

	if (v.k == VK_UNK && !(v.f & (VF_TAINT | VF_DECODED))) {
		/* Unknown value: forget what the name meant, if anything. */
		if ((s = sym_find(c, name, n, 0)) != NULL)
			s->v = UNK;
		return;
	}
	if ((s = sym_find(c, name, n, 1)) != NULL)
		s->v = v;
}

/* ------------------------------------------------------------------ */
/* Tree helpers */

static int
K(const struct ctx *c, TSNode n)
{
	TSSymbol s;

	if (ts_node_is_null(n))
		return K_OTHER;
	s = ts_node_symbol(n);
	return s < c->nsym ? c->kind[s] : K_OTHER;
}

static TSNode
field(const struct ctx *c, TSNode n, enum fld f)
{
	TSNode none;

	if (c->fld[f] == 0) {
		memset(&none, 0, sizeof(none));
		return none;
	}
	return ts_node_child_by_field_id(n, c->fld[f]);
}

static const char *
text(const struct ctx *c, TSNode n, size_t *len)
{
	uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);

	if (b > c->len || a > b)
		a = b = 0;
	*len = b - a;
	return c->src + a;
}

static int
text_is(const struct ctx *c, TSNode n, const char *s)
{
	size_t		 len;
	const char	*t = text(c, n, &len);

	return len == strlen(s) && memcmp(t, s, len) == 0;
}

/* First named child that is not a comment. */
static TSNode
first_named(const struct ctx *c, TSNode n)
{
	uint32_t i, cnt = ts_node_named_child_count(n);
	TSNode	 ch;

	for (i = 0; i < cnt; i++) {
		ch = ts_node_named_child(n, i);
		if (K(c, ch) != K_COMMENT)
			return ch;
	}
	memset(&ch, 0, sizeof(ch));
	return ch;
}

static TSNode
last_named(const struct ctx *c, TSNode n)
{
	uint32_t i = ts_node_named_child_count(n);
	TSNode	 ch;

	while (i-- > 0) {
		ch = ts_node_named_child(n, i);
		if (K(c, ch) != K_COMMENT)
			return ch;
	}
	memset(&ch, 0, sizeof(ch));
	return ch;
}

/* Arguments of a call/new: named children of the arguments node. */
static int
get_args(const struct ctx *c, TSNode argsn, TSNode *out, int max)
{
	uint32_t i, cnt;
	int	 n = 0;
	TSNode	 ch;

	if (ts_node_is_null(argsn))
		return 0;
	cnt = ts_node_named_child_count(argsn);
	for (i = 0; i < cnt && n < max; i++) {
		ch = ts_node_named_child(argsn, i);
		if (K(c, ch) != K_COMMENT)
			out[n++] = ch;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* String decoding */

static void
put_utf8(char *out, size_t *o, unsigned long cp)
{
	if (cp < 0x80)
		out[(*o)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x110000) {
		out[(*o)++] = (char)(0xf0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else
		out[(*o)++] = '?';
}

/* Decode JS escapes of s[0..n) into out (at least n+1 bytes; escapes never
 * grow).  Sets *esc when an escape spelled a character in hex, unicode or
 * octal form. */
static size_t
unescape_js(const char *s, size_t n, char *out, int *esc)
{
	size_t		 i = 0, o = 0, j;
	unsigned long	 cp;
	int		 h;

	while (i < n) {
		if (s[i] != '\\' || i + 1 >= n) {
			out[o++] = s[i++];
			continue;
		}
		i++;
		switch (s[i]) {
		case 'n': out[o++] = '\n'; i++; break;
		case 't': out[o++] = '\t'; i++; break;
		case 'r': out[o++] = '\r'; i++; break;
		case 'b': out[o++] = '\b'; i++; break;
		case 'f': out[o++] = '\f'; i++; break;
		case 'v': out[o++] = '\v'; i++; break;
		case '\r':
			i++;
			if (i < n && s[i] == '\n')
				i++;
			break;
		case '\n':
			i++;
			break;
		case 'x':
			if (i + 2 < n && ocss_hexval(s[i + 1]) >= 0 &&
			    ocss_hexval(s[i + 2]) >= 0) {
				put_utf8(out, &o, (unsigned long)(ocss_hexval(s[i + 1])
				    * 16 + ocss_hexval(s[i + 2])));
				i += 3;
				*esc = 1;
			} else
				out[o++] = s[i++];
			break;
		case 'u':
			cp = 0;
			if (i + 1 < n && s[i + 1] == '{') {
				for (j = i + 2; j < n && s[j] != '}' &&
				    (h = ocss_hexval(s[j])) >= 0 && j < i + 10; j++)
					cp = cp * 16 + (unsigned long)h;
				if (j < n && s[j] == '}' && j > i + 2) {
					put_utf8(out, &o, cp);
					i = j + 1;
					*esc = 1;
					break;
				}
			} else if (i + 4 < n) {
				for (j = i + 1; j <= i + 4; j++) {
					if ((h = ocss_hexval(s[j])) < 0)
						break;
					cp = cp * 16 + (unsigned long)h;
				}
				if (j == i + 5) {
					/* Lone surrogates become '?'. */
					put_utf8(out, &o, cp >= 0xd800 &&
					    cp < 0xe000 ? '?' : cp);
					i += 5;
					*esc = 1;
					break;
				}
			}
			out[o++] = s[i++];
			break;
		default:
			if (s[i] >= '0' && s[i] <= '7') {
				cp = 0;
				for (j = i; j < n && j < i + 3 && s[j] >= '0' &&
				    s[j] <= '7' && cp * 8 + (unsigned long)(s[j]
				    - '0') < 256; j++)
					cp = cp * 8 + (unsigned long)(s[j] - '0');
				if (!(cp == 0 && j == i + 1))
					*esc = 1;
				put_utf8(out, &o, cp);
				i = j;
			} else
				out[o++] = s[i++];
			break;
		}
	}
	out[o] = '\0';
	return o;
}

static struct val
ev_string(struct ctx *c, TSNode n)
{
	size_t		 len, o;
	const char	*t = text(c, n, &len);
	char		*buf;
	int		 esc = 0;
	struct val	 v;

	if (len < 2)
		return mkstr(c, "", 0, VF_LITERAL);
	if ((buf = aalloc(c, len)) == NULL)
		return UNK;
	o = unescape_js(t + 1, len - 2, buf, &esc);
	v = mkstr(c, buf, o, VF_LITERAL | (esc ? VF_ESCAPED : 0));
	return v;
}

static const char b64tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(int ch)
{
	const char *p;

	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	if (ch == 0 || (p = strchr(b64tab, ch)) == NULL)
		return -1;
	return (int)(p - b64tab);
}

static struct val
decode_b64(struct ctx *c, const struct val *in)
{
	char		*out;
	size_t		 i, o = 0;
	unsigned	 acc = 0;
	int		 bits = 0, v;

	if ((out = aalloc(c, in->n + 1)) == NULL)
		return UNK;
	for (i = 0; i < in->n; i++) {
		if (in->s[i] == '=' || isspace((unsigned char)in->s[i]))
			continue;
		if ((v = b64val(in->s[i])) < 0)
			return UNK;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return mkstr(c, out, o, (in->f & ~(VF_LITERAL | VF_ESCAPED)) |
	    VF_DECODED);
}

static struct val
decode_hex(struct ctx *c, const struct val *in)
{
	char	*out;
	size_t	 i, o = 0;
	int	 h, l;

	if (in->n % 2 || (out = aalloc(c, in->n / 2 + 1)) == NULL)
		return UNK;
	for (i = 0; i + 1 < in->n; i += 2) {
		if ((h = ocss_hexval(in->s[i])) < 0 || (l = ocss_hexval(in->s[i + 1])) < 0)
			return UNK;
		out[o++] = (char)(h * 16 + l);
	}
	return mkstr(c, out, o, (in->f & ~(VF_LITERAL | VF_ESCAPED)) |
	    VF_DECODED);
}

static struct val
decode_pct(struct ctx *c, const struct val *in)
{
	char	*out;
	size_t	 i, o = 0;
	int	 h, l;

	if ((out = aalloc(c, in->n + 1)) == NULL)
		return UNK;
	for (i = 0; i < in->n; i++) {
		if (in->s[i] == '%' && i + 2 < in->n &&
		    (h = ocss_hexval(in->s[i + 1])) >= 0 &&
		    (l = ocss_hexval(in->s[i + 2])) >= 0) {
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else
			out[o++] = in->s[i];
	}
	return mkstr(c, out, o, (in->f & ~VF_LITERAL) | VF_DECODED);
}

/* ------------------------------------------------------------------ */
/* Paths */

/* Names that mean something when no binding shadows them. */
static const char *const globals[] = {
	"eval", "Function", "require", "process", "fetch", "XMLHttpRequest",
	"WebSocket", "EventSource", "navigator", "setTimeout", "setInterval",
	"setImmediate", "atob", "Buffer", "String", "Reflect", "module",
	"URL", "JSON", "Object", "decodeURIComponent", "decodeURI",
	"unescape", "document", "Worker", "importScripts", NULL
};

static struct val
global_name(struct ctx *c, const char *s, size_t n, unsigned f)
{
	size_t i;

#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)
	if (IS("globalThis") || IS("window") || IS("global") || IS("self") ||
	    IS("frames"))
		return mkpath(c, "global", 6, f);
	if (IS("__dirname"))
		return mkstr(c, ".", 1, 0);
	if (IS("__filename"))
		return mkstr(c, "./index.js", 10, 0);
#undef IS
	for (i = 0; globals[i]; i++)
		if (strlen(globals[i]) == n && memcmp(globals[i], s, n) == 0)
			return mkpath(c, s, n, f);
	return UNK;
}

/* Module specifier to path: node: prefix dropped, '/' becomes '.'. */
static struct val
module_path(struct ctx *c, const struct val *spec)
{
	const char	*s = spec->s;
	size_t		 n = spec->n, i;
	char		*p;
	struct val	 v;

	if (n > 5 && memcmp(s, "node:", 5) == 0) {
		s += 5;
		n -= 5;
	}
	if (n == 0 || n > 214)
		return UNK;
	if ((p = aalloc(c, n + 1)) == NULL)
		return UNK;
	for (i = 0; i < n; i++)
		p[i] = s[i] == '/' && s[0] != '.' && s[0] != '@' ? '.' : s[i];
	v = mkpath(c, p, n, spec->f & VF_BUILT ? VF_HIDDEN : 0);
	return v;
}

static struct val
member(struct ctx *c, struct val base, const char *prop, size_t n,
    unsigned addf)
{
	char		*p;
	size_t		 len;
	unsigned	 f;

	if (base.k == VK_ARR || base.k == VK_STR || n == 0 || n > 128)
		return UNK;
	if (base.k == VK_UNK) {
		base.f &= VF_TAINT;
		base.s = NULL;
		base.n = 0;
		return base;
	}
	f = (base.f & (VF_HIDDEN | VF_BRACKET)) | addf;
	if (streq(&base, "global"))
		return global_name(c, prop, n, f);
	if (streq(&base, "process.env")) {
		if ((n == 4 && memcmp(prop, "HOME", 4) == 0) ||
		    (n == 11 && memcmp(prop, "USERPROFILE", 11) == 0))
			return mkstr(c, "~", 1, 0);
		if (n == 6 && memcmp(prop, "TMPDIR", 6) == 0)
			return mkstr(c, "/tmp", 4, 0);
		if (n == 7 && memcmp(prop, "APPDATA", 7) == 0)
			return mkstr(c, "~/AppData/Roaming", 17, 0);
		if (n == 12 && memcmp(prop, "LOCALAPPDATA", 12) == 0)
			return mkstr(c, "~/AppData/Local", 15, 0);
		return UNK;
	}
	if (streq(&base, "module") && n == 7 && memcmp(prop, "require", 7) == 0)
		return mkpath(c, "require", 7, f);
	if (streq(&base, "process.mainModule") && n == 7 &&
	    memcmp(prop, "require", 7) == 0)
		return mkpath(c, "require", 7, f);
	len = base.n + 1 + n;
	if (len > 256 || (p = aalloc(c, len + 1)) == NULL)
		return UNK;
	memcpy(p, base.s, base.n);
	p[base.n] = '.';
	memcpy(p + base.n + 1, prop, n);
	p[len] = '\0';
	if (len == 11 && memcmp(p, "process.env", 11) == 0)
		f |= VF_ENV;
	return (struct val){ VK_PATH, f, p, len };
}

/* ------------------------------------------------------------------ */
/* Evaluator */

static struct val ev(struct ctx *, TSNode, int);

static struct val
concat(struct ctx *c, struct val a, struct val b)
{
	char		*p;
	size_t		 an, bn;
	unsigned	 f;
	const char	*as, *bs;
	char		 unk = UNK_CH;

	f = ((a.f | b.f) & (VF_BUILT | VF_TAINT | VF_PARTIAL)) | VF_CONCAT;
	if (a.k != VK_STR && b.k != VK_STR)
		return (struct val){ VK_UNK, (a.f | b.f) & VF_TAINT, NULL, 0 };
	if ((a.f & VF_NUM) && (b.f & VF_NUM))
		return UNK;
	as = a.k == VK_STR ? a.s : &unk;
	an = a.k == VK_STR ? a.n : 1;
	bs = b.k == VK_STR ? b.s : &unk;
	bn = b.k == VK_STR ? b.n : 1;
	if (a.k != VK_STR || b.k != VK_STR)
		f |= VF_PARTIAL;
	if (an + bn > STRMAX) {
		if (an >= STRMAX && a.k == VK_STR) {
			/* Already at the cap: no copy. */
			a.f |= f | VF_PARTIAL;
			return a;
		}
		if (an >= STRMAX)
			return mkstr(c, as, STRMAX, f | VF_PARTIAL);
		bn = STRMAX - an;
		f |= VF_PARTIAL;
	}
	if ((p = aalloc(c, an + bn + 1)) == NULL)
		return UNK;
	memcpy(p, as, an);
	memcpy(p + an, bs, bn);
	p[an + bn] = '\0';
	return (struct val){ VK_STR, f, p, an + bn };
}

/* Taint of every named descendant expression one level down (objects,
 * arrays, arguments), skipping functions. */
static unsigned
taint_children(struct ctx *c, TSNode n, int d)
{
	uint32_t	 i, cnt = ts_node_named_child_count(n);
	unsigned	 f = 0;
	TSNode		 ch;
	struct val	 v;
	int		 k;

	for (i = 0; i < cnt && i < 256; i++) {
		ch = ts_node_named_child(n, i);
		k = K(c, ch);
		if (k == K_PAIR)
			ch = field(c, ch, F_VALUE);
		else if (k == K_SPREAD)
			ch = first_named(c, ch);
		else if (k == K_SHORTHAND_PROP) {
			size_t	 len;
			const char *t = text(c, ch, &len);
			struct sym *s = sym_find(c, t, len, 0);

			if (s)
				f |= s->v.f & VF_TAINT;
			continue;
		}
		if (ts_node_is_null(ch))
			continue;
		v = ev(c, ch, d + 1);
		f |= v.f & VF_TAINT;
		if (v.k == VK_PATH && streq(&v, "process.env"))
			f |= VF_ENV;
	}
	return f;
}

static int
num_value(const struct val *v, double *out)
{
	char	 buf[64];
	size_t	 i, o = 0;
	char	*end;

	if (v->k != VK_STR || !(v->f & VF_NUM) || v->n >= sizeof(buf))
		return -1;
	for (i = 0; i < v->n; i++)
		if (v->s[i] != '_')
			buf[o++] = v->s[i];
	buf[o] = '\0';
	if (o > 2 && buf[0] == '0' && (buf[1] == 'o' || buf[1] == 'O'))
		*out = (double)strtoull(buf + 2, &end, 8);
	else if (o > 2 && buf[0] == '0' && (buf[1] == 'b' || buf[1] == 'B'))
		*out = (double)strtoull(buf + 2, &end, 2);
	else
		*out = strtod(buf, &end);
	return *end == '\0' || *end == 'n' ? 0 : -1;
}

static struct val
ev_number(struct ctx *c, TSNode n)
{
	size_t		 len;
	const char	*t = text(c, n, &len);
	struct val	 v = mkstr(c, t, len, VF_NUM);
	double		 d;
	char		 buf[64];

	/* Normalise integers so that 0x65 + '' folds like JS would. */
	if (num_value(&v, &d) == 0 && d >= 0 && d < 9007199254740992.0 &&
	    d == (double)(long long)d) {
		snprintf(buf, sizeof(buf), "%lld", (long long)d);
		v = mkstr(c, buf, strlen(buf), VF_NUM);
	}
	return v;
}

/* Template literal: raw text between substitutions, unescaped. */
static struct val
ev_template(struct ctx *c, TSNode n, int d)
{
	uint32_t	 i, cnt = ts_node_named_child_count(n);
	uint32_t	 pos = ts_node_start_byte(n) + 1, end, s;
	struct val	 acc = mkstr(c, "", 0, 0), part;
	TSNode		 ch;
	char		*buf;
	size_t		 o;
	int		 esc = 0, subst = 0;

	end = ts_node_end_byte(n);
	if (end > c->len || end < pos + 1)
		return UNK;
	end--;	/* closing backquote */
	for (i = 0; i <= cnt; i++) {
		if (i < cnt) {
			ch = ts_node_named_child(n, i);
			if (K(c, ch) != K_TEMPLATE_SUBST)
				continue;
			s = ts_node_start_byte(ch);
		} else
			s = end;
		if (s > pos && s <= c->len) {
			if ((buf = aalloc(c, s - pos + 1)) == NULL)
				return UNK;
			o = unescape_js(c->src + pos, s - pos, buf, &esc);
			acc = concat(c, acc, mkstr(c, buf, o, 0));
		}
		if (i == cnt)
			break;
		subst = 1;
		part = ev(c, first_named(c, ch), d + 1);
		if (part.k == VK_PATH)
			part = (struct val){ VK_UNK, part.f & VF_TAINT,
			    NULL, 0 };
		acc = concat(c, acc, part);
		pos = ts_node_end_byte(ch);
	}
	if (acc.k == VK_STR) {
		if (!subst)
			acc.f &= ~VF_CONCAT;
		if (esc)
			acc.f |= VF_ESCAPED;
	}
	return acc;
}

struct call {
	struct val	 callee;
	TSNode		 calleen;	/* the function node as written */
	TSNode		 args[MAXARGS];
	int		 nargs;
	int		 is_new;
	int		 direct;	/* plain unbound identifier callee */
	int		 is_import;	/* import(...) */
};

/* Expand an array literal node into argument nodes. */
static int
array_args(const struct ctx *c, TSNode arr, TSNode *out)
{
	if (K(c, arr) != K_ARRAY)
		return 0;
	return get_args(c, arr, out, MAXARGS);
}

static void
resolve_call(struct ctx *c, TSNode n, int is_new, struct call *cl, int d)
{
	TSNode		 fn, obj, prop, tmp[MAXARGS];
	int		 i, k;
	size_t		 len;
	const char	*t;

	memset(cl, 0, sizeof(*cl));
	cl->is_new = is_new;
	fn = field(c, n, is_new ? F_CONSTRUCTOR : F_FUNCTION);
	cl->calleen = fn;
	cl->nargs = get_args(c, field(c, n, F_ARGUMENTS), cl->args, MAXARGS);
	k = K(c, fn);
	if (k == K_IMPORT) {
		cl->is_import = 1;
		return;
	}
	if (k == K_IDENT) {
		t = text(c, fn, &len);
		if (sym_find(c, t, len, 0) == NULL ||
		    sym_find(c, t, len, 0)->v.k == VK_UNK)
			cl->direct = 1;
	}
	/* f.call(this, a...) / f.apply(this, [a...]) act as f(a...). */
	if (k == K_MEMBER && !is_new) {
		prop = field(c, fn, F_PROPERTY);
		obj = field(c, fn, F_OBJECT);
		if (text_is(c, prop, "call") || text_is(c, prop, "apply")) {
			cl->callee = ev(c, obj, d + 1);
			if (cl->callee.k == VK_PATH &&
			    !streq(&cl->callee, "Reflect")) {
				cl->direct = 0;
				if (text_is(c, prop, "call")) {
					for (i = 1; i < cl->nargs; i++)
						cl->args[i - 1] = cl->args[i];
					cl->nargs = cl->nargs ? cl->nargs - 1 : 0;
				} else if (cl->nargs >= 2)
					cl->nargs = array_args(c, cl->args[1],
					    cl->args);
				else
					cl->nargs = 0;
				return;
			}
		}
	}
	cl->callee = ev(c, fn, d + 1);
	if (cl->callee.k != VK_PATH)
		return;
	/* Reflect.apply(f, this, [a...]) / Reflect.construct(F, [a...]). */
	if (streq(&cl->callee, "Reflect.apply") && cl->nargs >= 1) {
		cl->callee = ev(c, cl->args[0], d + 1);
		cl->callee.f |= VF_HIDDEN;
		cl->direct = 0;
		cl->nargs = cl->nargs >= 3 ? array_args(c, cl->args[2], tmp) : 0;
		memcpy(cl->args, tmp, sizeof(TSNode) * (size_t)cl->nargs);
	} else if (streq(&cl->callee, "Reflect.construct") && cl->nargs >= 1) {
		cl->callee = ev(c, cl->args[0], d + 1);
		cl->callee.f |= VF_HIDDEN;
		cl->direct = 0;
		cl->is_new = 1;
		cl->nargs = cl->nargs >= 2 ? array_args(c, cl->args[1], tmp) : 0;
		memcpy(cl->args, tmp, sizeof(TSNode) * (size_t)cl->nargs);
	}
}

static struct val
arg(struct ctx *c, const struct call *cl, int i, int d)
{
	return i < cl->nargs ? ev(c, cl->args[i], d + 1) : UNK;
}

static int
path_is(const struct val *v, const char *s)
{
	return v->k == VK_PATH && streq(v, s);
}

/* Join of path segments the way path.join would, unknowns as UNK_CH. */
static struct val
path_join(struct ctx *c, const struct call *cl, int resolve, int d)
{
	struct val	 acc = UNK, p;
	int		 i;

	for (i = 0; i < cl->nargs; i++) {
		p = ev(c, cl->args[i], d + 1);
		if (p.k != VK_STR)
			p = (struct val){ VK_UNK, p.f & VF_TAINT, NULL, 0 };
		if (resolve && p.k == VK_STR && p.n > 0 &&
		    (p.s[0] == '/' || p.s[0] == '~')) {
			acc = p;
			continue;
		}
		if (i == 0) {
			acc = p.k == VK_STR ? p : mkstr(c, "\x1f", 1,
			    VF_PARTIAL | (p.f & VF_TAINT));
			continue;
		}
		acc = concat(c, concat(c, acc, mkstr(c, "/", 1, 0)), p);
	}
	if (acc.k == VK_STR)
		acc.f &= ~VF_CONCAT;
	return acc;
}

static struct val
str_method(struct ctx *c, struct val recv, TSNode prop, const struct call *cl,
    int d)
{
	size_t		 i, j, o;
	char		*buf;
	struct val	 a, b, r;
	const char	*p;
	double		 x, y;

#define M(s) text_is(c, prop, s)
	if (recv.k == VK_ARR) {
		if (M("join")) {
			a = cl->nargs ? arg(c, cl, 0, d) : mkstr(c, ",", 1, 0);
			if (!exact(&a))
				return UNK;
			r = mkstr(c, "", 0, 0);
			for (i = 0, j = 0; i <= recv.n; i++) {
				if (i < recv.n && recv.s[i] != SEP_CH)
					continue;
				if (j > 0)
					r = concat(c, r, a);
				r = concat(c, r, mkstr(c, recv.s + j, i - j, 0));
				j = i + 1;
			}
			r.f |= (recv.f & VF_BUILT) | VF_CONCAT;
			return r;
		}
		if (M("reverse")) {
			if ((buf = aalloc(c, recv.n + 1)) == NULL)
				return UNK;
			o = 0;
			for (i = recv.n; ; ) {
				j = i;
				while (j > 0 && recv.s[j - 1] != SEP_CH)
					j--;
				memcpy(buf + o, recv.s + j, i - j);
				o += i - j;
				if (j == 0)
					break;
				buf[o++] = SEP_CH;
				i = j - 1;
			}
			r = mkstr(c, buf, o, recv.f | VF_CONCAT);
			r.k = VK_ARR;
			return r;
		}
		return UNK;
	}
	if (recv.k != VK_STR)
		return UNK;
	if (M("toString") || M("valueOf") || M("trim") || M("normalize"))
		return recv;
	if (M("toLowerCase") || M("toUpperCase")) {
		r = mkstr(c, recv.s, recv.n, recv.f);
		for (i = 0; r.s && i < r.n; i++)
			((char *)r.s)[i] = (char)(M("toLowerCase") ?
			    tolower((unsigned char)r.s[i]) :
			    toupper((unsigned char)r.s[i]));
		return r;
	}
	if (M("concat")) {
		r = recv;
		for (i = 0; i < (size_t)cl->nargs; i++)
			r = concat(c, r, arg(c, cl, (int)i, d));
		return r;
	}
	if (M("split") && exact(&recv)) {
		a = arg(c, cl, 0, d);
		if (!exact(&a) || a.n > 0)
			return UNK;	/* only split('') */
		if ((buf = aalloc(c, recv.n * 2 + 1)) == NULL)
			return UNK;
		for (i = 0, o = 0; i < recv.n; i++) {
			if (i)
				buf[o++] = SEP_CH;
			buf[o++] = recv.s[i];
		}
		r = mkstr(c, buf, o, recv.f);
		r.k = VK_ARR;
		return r;
	}
	if ((M("replace") || M("replaceAll")) && exact(&recv)) {
		a = arg(c, cl, 0, d);
		b = arg(c, cl, 1, d);
		if (!exact(&a) || !exact(&b) || a.n == 0)
			return UNK;
		r = mkstr(c, "", 0, 0);
		p = recv.s;
		for (;;) {
			const char *hit = NULL;

			for (i = (size_t)(p - recv.s); i + a.n <= recv.n; i++)
				if (memcmp(recv.s + i, a.s, a.n) == 0) {
					hit = recv.s + i;
					break;
				}
			if (hit == NULL)
				break;
			r = concat(c, r, mkstr(c, p, (size_t)(hit - p), 0));
			r = concat(c, r, b);
			p = hit + a.n;
			if (M("replace"))
				break;
		}
		r = concat(c, r, mkstr(c, p, recv.n - (size_t)(p - recv.s), 0));
		r.f |= recv.f & VF_BUILT;
		return r;
	}
	if ((M("slice") || M("substring") || M("substr")) && exact(&recv)) {
		a = arg(c, cl, 0, d);
		b = cl->nargs > 1 ? arg(c, cl, 1, d) : UNK;
		if (num_value(&a, &x) != 0 || x < 0 || x > (double)recv.n)
			return UNK;
		if (cl->nargs > 1 && (num_value(&b, &y) != 0 || y < 0))
			return UNK;
		if (cl->nargs < 2)
			y = (double)recv.n;
		else if (M("substr"))
			y = x + y;
		if (y > (double)recv.n)
			y = (double)recv.n;
		if (y < x)
			return UNK;
		return mkstr(c, recv.s + (size_t)x, (size_t)y - (size_t)x,
		    recv.f | VF_CONCAT);
	}
#undef M
	return UNK;
}

static struct val
from_char_code(struct ctx *c, const struct call *cl, int d)
{
	char		 buf[STRMAX + 8];
	size_t		 o = 0;
	int		 i, j, n;
	TSNode		 items[MAXARGS];
	struct val	 v;
	double		 x;

	for (i = 0; i < cl->nargs; i++) {
		if (K(c, cl->args[i]) == K_SPREAD) {
			if (K(c, first_named(c, cl->args[i])) != K_ARRAY)
				return UNK;
			n = array_args(c, first_named(c, cl->args[i]), items);
			for (j = 0; j < n; j++) {
				v = ev(c, items[j], d + 1);
				if (num_value(&v, &x) != 0 || x < 0 || x > 0x10ffff)
					return UNK;
				put_utf8(buf, &o, (unsigned long)x);
			}
			continue;
		}
		v = ev(c, cl->args[i], d + 1);
		if (num_value(&v, &x) != 0 || x < 0 || x > 0x10ffff)
			return UNK;
		put_utf8(buf, &o, (unsigned long)x);
		if (o > STRMAX)
			break;
	}
	return mkstr(c, buf, o, VF_CHARCODE);
}

static int
is_fs_module(const char *s, size_t n)
{
	static const char *const mods[] = { "fs", "fs.promises", "fs-extra",
	    "graceful-fs", "fs-extra.promises", NULL };
	size_t i;

	for (i = 0; mods[i]; i++)
		if (strlen(mods[i]) == n && memcmp(mods[i], s, n) == 0)
			return 1;
	return 0;
}

static const char *
last_dot(const struct val *v)
{
	const char *p = v->s + v->n;

	while (p > v->s && p[-1] != '.')
		p--;
	return p > v->s ? p - 1 : NULL;
}

static int sensitive_path(const struct val *);

static struct val
ev_call(struct ctx *c, TSNode n, int is_new, int d)
{
	struct call	 cl;
	struct val	 a, b, r, recv;
	TSNode		 fn;
	unsigned	 taint = 0;
	const char	*dot;
	int		 i;

	resolve_call(c, n, is_new, &cl, d);
	if (cl.is_import) {
		a = arg(c, &cl, 0, d);
		return exact(&a) ? module_path(c, &a) : UNK;
	}
	fn = cl.calleen;
	/* Methods of constant strings and arrays. */
	if (cl.callee.k != VK_PATH && !is_new &&
	    (K(c, fn) == K_MEMBER || K(c, fn) == K_SUBSCRIPT)) {
		recv = ev(c, field(c, fn, F_OBJECT), d + 1);
		if (recv.k == VK_STR || recv.k == VK_ARR) {
			r = UNK;
			if (K(c, fn) == K_MEMBER)
				r = str_method(c, recv, field(c, fn, F_PROPERTY),
				    &cl, d);
			if (r.k != VK_UNK)
				return r;
		}
		/* Methods of decoded data (toString, trim...) stay decoded. */
		taint |= recv.f & (VF_TAINT | VF_DECODED);
		if (recv.k == VK_PATH && streq(&recv, "process.env"))
			taint |= VF_ENV;
	}
	if (cl.callee.k == VK_PATH) {
		struct val *p = &cl.callee;

		if (path_is(p, "require") && !is_new) {
			a = arg(c, &cl, 0, d);
			return exact(&a) ? module_path(c, &a) : UNK;
		}
		if (path_is(p, "atob") || path_is(p, "Buffer.from") ||
		    path_is(p, "Buffer")) {
			a = arg(c, &cl, 0, d);
			b = path_is(p, "atob") ? mkstr(c, "base64", 6, 0) :
			    arg(c, &cl, 1, d);
			if (exact(&a)) {
				if (streq(&b, "base64") || streq(&b, "base64url"))
					return decode_b64(c, &a);
				if (streq(&b, "hex"))
					return decode_hex(c, &a);
				if (b.k == VK_UNK && cl.nargs < 2)
					return a;
				return UNK;
			}
			r = UNK;
			r.f = a.f & VF_TAINT;
			if (streq(&b, "base64") || streq(&b, "hex"))
				r.f |= VF_DECODED;
			return r;
		}
		if (path_is(p, "decodeURIComponent") || path_is(p, "decodeURI") ||
		    path_is(p, "unescape")) {
			a = arg(c, &cl, 0, d);
			return exact(&a) ? decode_pct(c, &a) :
			    (struct val){ VK_UNK, (a.f & VF_TAINT) | VF_DECODED,
			    NULL, 0 };
		}
		if (path_is(p, "String.fromCharCode") ||
		    path_is(p, "String.fromCodePoint"))
			return from_char_code(c, &cl, d);
		if (path_is(p, "Reflect.get") && cl.nargs >= 2) {
			a = arg(c, &cl, 0, d);
			b = arg(c, &cl, 1, d);
			if (exact(&b))
				return member(c, a, b.s, b.n, VF_HIDDEN);
			return UNK;
		}
		if (path_is(p, "path.join") || path_is(p, "path.posix.join") ||
		    path_is(p, "path.normalize"))
			return path_join(c, &cl, 0, d);
		if (path_is(p, "path.resolve"))
			return path_join(c, &cl, 1, d);
		if (path_is(p, "module.createRequire") ||
		    path_is(p, "module.createRequireFromPath"))
			return mkpath(c, "require", 7, p->f);
		if (path_is(p, "os.homedir"))
			return mkstr(c, "~", 1, 0);
		if (path_is(p, "os.tmpdir"))
			return mkstr(c, "/tmp", 4, 0);
		if (path_is(p, "process.cwd"))
			return mkstr(c, ".", 1, 0);
		if (path_is(p, "URL") && is_new)
			return arg(c, &cl, 0, d);
		if (p->n > 5 && memcmp(p->s + p->n - 5, ".bind", 5) == 0)
			return mkpath(c, p->s, p->n - 5, p->f);
		/* Reading a credential file taints the result. */
		if ((dot = last_dot(p)) != NULL &&
		    is_fs_module(p->s, (size_t)(dot - p->s)) &&
		    (!strcmp(dot, ".readFileSync") || !strcmp(dot, ".readFile") ||
		    !strcmp(dot, ".readJson") || !strcmp(dot, ".readJsonSync"))) {
			a = arg(c, &cl, 0, d);
			if (sensitive_path(&a))
				return (struct val){ VK_UNK, VF_SECRET, NULL, 0 };
			return UNK;
		}
	}
	/* Anything else: the result carries the taint of its inputs. */
	for (i = 0; i < cl.nargs && i < 8; i++) {
		a = ev(c, cl.args[i], d + 1);
		taint |= a.f & VF_TAINT;
		if (path_is(&a, "process.env"))
			taint |= VF_ENV;
	}
	if (cl.callee.k == VK_PATH) {
		r = mkpath(c, cl.callee.s, cl.callee.n, 0);
		r = concat(c, (struct val){ VK_STR, 0, r.s, r.n },
		    mkstr(c, "()", 2, 0));
		if (r.k == VK_STR) {
			r.k = VK_PATH;
			r.f = taint | (cl.callee.f & (VF_HIDDEN | VF_BRACKET));
			return r;
		}
	}
	return (struct val){ VK_UNK, taint | (cl.callee.f & VF_TAINT), NULL, 0 };
}

static struct val
ev(struct ctx *c, TSNode n, int d)
{
	struct val	 a, b;
	TSNode		 ch;
	size_t		 len;
	const char	*t;
	struct sym	*s;

	if (d > DEPTHMAX || ts_node_is_null(n) || c->oom)
		return UNK;
	switch (K(c, n)) {
	case K_STRING:
		return ev_string(c, n);
	case K_TEMPLATE:
		return ev_template(c, n, d);
	case K_NUMBER:
		return ev_number(c, n);
	case K_IDENT:
		t = text(c, n, &len);
		if ((s = sym_find(c, t, len, 0)) != NULL && (s->v.k != VK_UNK ||
		    s->v.f))
			return s->v;
		if (len == 9 && memcmp(t, "undefined", 9) == 0)
			return UNK;
		return global_name(c, t, len, 0);
	case K_PAREN:
	case K_SEQUENCE:
	case K_TYPE_ASSERTION:
		return ev(c, last_named(c, n), d + 1);
	case K_AWAIT:
	case K_AS:
	case K_SATISFIES:
	case K_NONNULL:
		return ev(c, first_named(c, n), d + 1);
	case K_BINARY:
		ch = field(c, n, F_OPERATOR);
		a = ev(c, field(c, n, F_LEFT), d + 1);
		if (text_is(c, ch, "+")) {
			b = ev(c, field(c, n, F_RIGHT), d + 1);
			if (a.k == VK_PATH || b.k == VK_PATH) {
				a.f |= b.f;
				return (struct val){ VK_UNK, a.f & VF_TAINT,
				    NULL, 0 };
			}
			return concat(c, a, b);
		}
		if (text_is(c, ch, "||") || text_is(c, ch, "??")) {
			/* x || fallback: a known API on either side is what
			 * runs (globalThis.fetch || require('node-fetch'));
			 * an unknown string on the left makes it unknown. */
			if (a.k == VK_PATH)
				return a;
			b = ev(c, field(c, n, F_RIGHT), d + 1);
			if (a.k == VK_UNK && b.k == VK_PATH) {
				b.f |= a.f & VF_TAINT;
				return b;
			}
			if (a.k == VK_STR && exact(&a) && a.n > 0)
				return a;
			return (struct val){ VK_UNK, (a.f | b.f) & VF_TAINT,
			    NULL, 0 };
		}
		b = ev(c, field(c, n, F_RIGHT), d + 1);
		return (struct val){ VK_UNK, (a.f | b.f) & VF_TAINT, NULL, 0 };
	case K_TERNARY:
		return (struct val){ VK_UNK, taint_children(c, n, d), NULL, 0 };
	case K_MEMBER:
		a = ev(c, field(c, n, F_OBJECT), d + 1);
		t = text(c, field(c, n, F_PROPERTY), &len);
		return member(c, a, t, len, 0);
	case K_SUBSCRIPT:
		a = ev(c, field(c, n, F_OBJECT), d + 1);
		ch = field(c, n, F_INDEX);
		b = ev(c, ch, d + 1);
		if (a.k == VK_ARR && num_value(&b, &(double){0}) == 0) {
			double	 x;
			size_t	 i, j = 0, idx;

			num_value(&b, &x);
			if (x < 0 || x > STRMAX)
				return UNK;
			idx = (size_t)x;
			for (i = 0; i <= a.n; i++) {
				if (i < a.n && a.s[i] != SEP_CH)
					continue;
				if (idx-- == 0)
					return mkstr(c, a.s + j, i - j,
					    a.f | VF_CONCAT);
				j = i + 1;
			}
			return UNK;
		}
		if (!exact(&b) || (b.f & VF_NUM))
			return (struct val){ VK_UNK, a.f & VF_TAINT, NULL, 0 };
		return member(c, a, b.s, b.n, (b.f & VF_LITERAL) &&
		    !(b.f & VF_ESCAPED) ? VF_BRACKET : VF_HIDDEN);
	case K_CALL:
		return ev_call(c, n, 0, d);
	case K_NEW:
		return ev_call(c, n, 1, d);
	case K_ASSIGN:
		return ev(c, field(c, n, F_RIGHT), d + 1);
	case K_OBJECT:
		return (struct val){ VK_UNK, taint_children(c, n, d), NULL, 0 };
	case K_ARRAY: {
		uint32_t i, cnt = ts_node_named_child_count(n);
		struct val acc = mkstr(c, "", 0, 0);
		unsigned f = 0;
		int ok = 1;

		for (i = 0; i < cnt && i < 1024; i++) {
			ch = ts_node_named_child(n, i);
			if (K(c, ch) == K_COMMENT)
				continue;
			a = ev(c, ch, d + 1);
			f |= a.f;
			if (path_is(&a, "process.env"))
				f |= VF_ENV;
			if (!exact(&a) || memchr(a.s, SEP_CH, a.n))
				ok = 0;
			if (ok) {
				if (acc.n)
					acc = concat(c, acc,
					    mkstr(c, "\x1e", 1, 0));
				acc = concat(c, acc, a);
			}
		}
		if (!ok || cnt >= 1024 || acc.k != VK_STR)
			return (struct val){ VK_UNK, f & VF_TAINT, NULL, 0 };
		acc.k = VK_ARR;
		acc.f = (f & VF_BUILT) & ~VF_CONCAT;
		return acc;
	}
	default:
		return UNK;
	}
}

/* ------------------------------------------------------------------ */
/* Checks */

static int
sensitive_path(const struct val *v)
{
	static const char *const pats[] = { ".ssh", "id_rsa", "id_ed25519",
	    "id_ecdsa", ".npmrc", ".aws/credentials", ".aws/config", ".gnupg",
	    ".netrc", ".docker/config.json", ".kube/config",
	    ".git-credentials", ".bash_history", ".zsh_history", "/etc/passwd",
	    "/etc/shadow", "login data", "cookies", "local storage",
	    "wallet", "exodus", "electrum", "metamask", "keychain", "keystore",
	    ".config/solana", "web data", ".openclaw", ".pypirc",
	    ".config/gcloud", ".azure", "nkbihfbeogaeaoehlefnkodbefgpgknn",
	    NULL };
	char	 low[STRMAX + 1];
	size_t	 i;

	if (v->k != VK_STR || v->n == 0)
		return 0;
	for (i = 0; i < v->n && i < STRMAX; i++)
		low[i] = (char)tolower((unsigned char)v->s[i]);
	low[i] = '\0';
	for (i = 0; pats[i]; i++)
		if (strstr(low, pats[i]))
			return 1;
	return 0;
}

static int
outside_path(const struct val *v)
{
	if (v->k != VK_STR || v->n == 0)
		return 0;
	if (v->s[0] == '/' || v->s[0] == '~' || v->s[0] == '\\')
		return 1;
	if (v->n >= 2 && isalpha((unsigned char)v->s[0]) && v->s[1] == ':')
		return 1;
	if (memmem(v->s, v->n, "..", 2))
		return 1;
	return 0;
}

/* Property value node of an object literal, by key. */
static TSNode
obj_prop(const struct ctx *c, TSNode obj, const char *key)
{
	uint32_t	 i, cnt;
	TSNode		 ch, k, none;
	size_t		 len;
	const char	*t;

	memset(&none, 0, sizeof(none));
	if (K(c, obj) != K_OBJECT)
		return none;
	cnt = ts_node_named_child_count(obj);
	for (i = 0; i < cnt; i++) {
		ch = ts_node_named_child(obj, i);
		if (K(c, ch) != K_PAIR)
			continue;
		k = field(c, ch, F_KEY);
		t = text(c, k, &len);
		if (K(c, k) == K_STRING && len >= 2) {
			t++;
			len -= 2;
		}
		if (len == strlen(key) && memcmp(t, key, len) == 0)
			return field(c, ch, F_VALUE);
	}
	return none;
}

static int
emit(struct ctx *c, enum ss_check ck, TSNode n, const char *detail)
{
	TSPoint p = ts_node_start_point(n);

	return ss_emit(c->sc, c->rep, ck, c->file, c->src, c->len,
	    ts_node_start_byte(n), p.row + 1, p.column + 1, detail);
}

static void
emit_val(struct ctx *c, enum ss_check ck, TSNode n, const struct val *v)
{
	char	 buf[200];
	size_t	 i, o = 0;

	if (v->k == VK_STR || v->k == VK_PATH) {
		for (i = 0; i < v->n && o < sizeof(buf) - 4; i++) {
			unsigned char ch = (unsigned char)v->s[i];

			if (ch == UNK_CH) {
				memcpy(buf + o, "...", 3);
				o += 3;
			} else
				buf[o++] = ch < 0x20 ? '?' : (char)ch;
		}
	}
	buf[o] = '\0';
	emit(c, ck, n, buf);
}

/* Does a code argument come from decoding or char codes? */
static void
check_code(struct ctx *c, const struct call *cl, TSNode at, int from, int to,
    int d)
{
	struct val	 v;
	int		 i;

	for (i = from; i < cl->nargs && i <= to; i++) {
		v = ev(c, cl->args[i], d + 1);
		if (v.f & (VF_DECODED | VF_CHARCODE)) {
			emit_val(c, SS_CK_OBF_DECODED_EXEC, at, &v);
			return;
		}
	}
}

static int
opt_true(struct ctx *c, TSNode obj, const char *key)
{
	TSNode v = obj_prop(c, obj, key);

	return !ts_node_is_null(v) && K(c, v) == K_TRUE;
}

static int
shell_dangerous(const struct val *v)
{
	static const char *const pats[] = { "rm -rf", "rm -r ", "rm -fr",
	    "curl ", "wget ", "| sh", "|sh", "| bash", "|bash", "base64 -d",
	    "base64 --decode", "powershell", "/dev/tcp/", "nc -e", "mkfifo",
	    "chmod +x", "chmod 777", "crontab", "del /f", "rd /s", NULL };
	size_t i;

	if (v->k != VK_STR)
		return 0;
	for (i = 0; pats[i]; i++)
		if (memmem(v->s, v->n, pats[i], strlen(pats[i])))
			return 1;
	return 0;
}

enum net_kind { NET_URL0, NET_URL1, NET_HOSTARGS, NET_DNS, NET_DATA };

struct net_sink {
	const char	*path;
	enum net_kind	 kind;
};

static const struct net_sink net_sinks[] = {
	{ "fetch", NET_URL0 }, { "node-fetch", NET_URL0 },
	{ "node-fetch.default", NET_URL0 }, { "undici.fetch", NET_URL0 },
	{ "undici.request", NET_URL0 }, { "axios", NET_URL0 },
	{ "axios.get", NET_URL0 }, { "axios.post", NET_URL0 },
	{ "axios.put", NET_URL0 }, { "axios.patch", NET_URL0 },
	{ "axios.delete", NET_URL0 }, { "axios.head", NET_URL0 },
	{ "axios.request", NET_URL0 }, { "axios.default", NET_URL0 },
	{ "axios.default.get", NET_URL0 }, { "axios.default.post", NET_URL0 },
	{ "got", NET_URL0 }, { "got.get", NET_URL0 }, { "got.post", NET_URL0 },
	{ "request", NET_URL0 }, { "request.get", NET_URL0 },
	{ "request.post", NET_URL0 }, { "http.get", NET_URL0 },
	{ "http.request", NET_URL0 }, { "https.get", NET_URL0 },
	{ "https.request", NET_URL0 }, { "http2.connect", NET_URL0 },
	{ "navigator.sendBeacon", NET_URL0 }, { "WebSocket", NET_URL0 },
	{ "ws", NET_URL0 }, { "ws.WebSocket", NET_URL0 },
	{ "EventSource", NET_URL0 }, { "importScripts", NET_URL0 },
	{ "XMLHttpRequest().open", NET_URL1 },
	{ "XMLHttpRequest().send", NET_DATA },
	{ "http.request().write", NET_DATA }, { "http.request().end", NET_DATA },
	{ "https.request().write", NET_DATA },
	{ "https.request().end", NET_DATA },
	{ "net.connect().write", NET_DATA }, { "net.connect().end", NET_DATA },
	{ "net.createConnection().write", NET_DATA },
	{ "net.Socket().write", NET_DATA }, { "tls.connect().write", NET_DATA },
	{ "WebSocket().send", NET_DATA }, { "ws().send", NET_DATA },
	{ "ws.WebSocket().send", NET_DATA },
	{ "net.connect", NET_HOSTARGS }, { "net.createConnection", NET_HOSTARGS },
	{ "tls.connect", NET_HOSTARGS }, { "net.Socket().connect", NET_HOSTARGS },
	{ "dns.lookup", NET_DNS }, { "dns.resolve", NET_DNS },
	{ "dns.resolve4", NET_DNS }, { "dns.resolve6", NET_DNS },
	{ "dns.resolveTxt", NET_DNS }, { "dns.resolveAny", NET_DNS },
	{ "dns.promises.lookup", NET_DNS }, { "dns.promises.resolve", NET_DNS },
	{ "dns.promises.resolveTxt", NET_DNS },
	{ NULL, NET_URL0 }
};

/* Host of a URL-ish value; NULL when it cannot be known. */
static char *
host_of(struct ctx *c, const struct val *v, int bare)
{
	const char	*s, *e, *at;
	char		*h;
	size_t		 n, i;

	if (v->k != VK_STR || v->n == 0)
		return NULL;
	s = v->s;
	e = v->s + v->n;
	if ((at = memmem(s, v->n, "://", 3)) != NULL)
		s = at + 3;
	else if (v->n > 2 && s[0] == '/' && s[1] == '/')
		s += 2;
	else if (!bare)
		return NULL;
	for (n = 0; s + n < e && !strchr("/?#:", s[n]) && s[n] != UNK_CH; n++)
		;
	if (s + n < e && s[n] == UNK_CH)
		return NULL;
	/* user:pass@host */
	if ((at = memchr(s, '@', n)) != NULL) {
		n -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (n == 0 || n > 253 || (h = aalloc(c, n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		h[i] = (char)tolower((unsigned char)s[i]);
	h[n] = '\0';
	return h;
}

static unsigned
args_taint(struct ctx *c, const struct call *cl, int d)
{
	unsigned	 f = 0;
	struct val	 v;
	int		 i;

	for (i = 0; i < cl->nargs; i++) {
		v = ev(c, cl->args[i], d + 1);
		f |= v.f & VF_TAINT;
		if (path_is(&v, "process.env"))
			f |= VF_ENV;
	}
	return f;
}

static void
check_net(struct ctx *c, TSNode at, const struct call *cl, enum net_kind kind,
    int d)
{
	struct val	 v = UNK;
	TSNode		 a0, p;
	char		*host = NULL;
	unsigned	 taint;
	int		 allowed = 0;

	a0 = cl->nargs > 0 ? cl->args[0] : (TSNode){ 0 };
	switch (kind) {
	case NET_URL0:
		if (cl->nargs > 0 && K(c, a0) == K_OBJECT) {
			p = obj_prop(c, a0, "url");
			if (ts_node_is_null(p))
				p = obj_prop(c, a0, "baseURL");
			if (!ts_node_is_null(p)) {
				v = ev(c, p, d + 1);
				host = host_of(c, &v, 0);
			} else {
				p = obj_prop(c, a0, "hostname");
				if (ts_node_is_null(p))
					p = obj_prop(c, a0, "host");
				v = ev(c, p, d + 1);
				host = host_of(c, &v, 1);
			}
		} else if (cl->nargs > 0) {
			v = ev(c, a0, d + 1);
			host = host_of(c, &v, 0);
		}
		break;
	case NET_URL1:
		if (cl->nargs > 1) {
			v = ev(c, cl->args[1], d + 1);
			host = host_of(c, &v, 0);
		}
		break;
	case NET_HOSTARGS:
		if (cl->nargs > 0 && K(c, a0) == K_OBJECT) {
			p = obj_prop(c, a0, "host");
			v = ev(c, p, d + 1);
		} else if (cl->nargs > 1)
			v = ev(c, cl->args[1], d + 1);
		else
			v = mkstr(c, "localhost", 9, 0);
		host = host_of(c, &v, 1);
		break;
	case NET_DNS:
		if (cl->nargs > 0) {
			v = ev(c, a0, d + 1);
			host = host_of(c, &v, 1);
		}
		break;
	case NET_DATA:
		break;
	}
	if (host != NULL && ss_host_allowed(c->sc, host))
		allowed = 1;
	if (kind != NET_DATA) {
		if (host == NULL)
			emit_val(c, SS_CK_NET_UNRESOLVED, at, &v);
		else if (!allowed)
			emit(c, SS_CK_NET_UNLISTED, at, host);
	}
	if (allowed)
		return;
	taint = args_taint(c, cl, d);
	if (taint & VF_ENV)
		emit(c, SS_CK_NET_EXFIL_ENV, at, host ? host : "");
	if (taint & VF_SECRET)
		emit(c, SS_CK_NET_EXFIL_SECRET, at, host ? host : "");
}

static int
one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static const char *const fs_write[] = { "writeFile", "writeFileSync",
	"appendFile", "appendFileSync", "createWriteStream", "outputFile",
	"outputFileSync", "outputJson", "outputJsonSync", "writeJson",
	"writeJsonSync", "truncate", "truncateSync", NULL };
static const char *const fs_write_dst[] = { "copyFile", "copyFileSync",
	"cp", "cpSync", "symlink", "symlinkSync", "link", "linkSync",
	"copy", "copySync", NULL };
static const char *const fs_delete[] = { "unlink", "unlinkSync", "rmdir",
	"rmdirSync", "rm", "rmSync", NULL };
static const char *const fs_delete_rec[] = { "remove", "removeSync",
	"emptyDir", "emptyDirSync", "emptydir", NULL };
static const char *const fs_rename[] = { "rename", "renameSync", "move",
	"moveSync", NULL };
static const char *const fs_chmod[] = { "chmod", "chmodSync", "chown",
	"chownSync", "lchmod", "lchmodSync", "lchown", "lchownSync", NULL };
static const char *const fs_read[] = { "readFile", "readFileSync",
	"readdir", "readdirSync", "createReadStream", "readJson",
	"readJsonSync", "copyFile", "copyFileSync", "cp", "cpSync",
	"opendir", "opendirSync", NULL };
static const char *const cp_fns[] = { "exec", "execSync", "spawn",
	"spawnSync", "fork", "execFile", "execFileSync", NULL };
static const char *const vm_fns[] = { "vm.runInThisContext",
	"vm.runInNewContext", "vm.runInContext", "vm.compileFunction",
	"vm.Script", "vm.SourceTextModule", "vm.createScript", NULL };

static void
check_fs(struct ctx *c, TSNode at, const struct call *cl, const char *m,
    int d)
{
	struct val	 p, o;
	TSNode		 opts;

	if (one_of(m, fs_read)) {
		p = arg(c, cl, 0, d);
		if (sensitive_path(&p))
			emit_val(c, SS_CK_FS_SENSITIVE_READ, at, &p);
		if (!one_of(m, fs_write_dst))
			return;
	}
	if (one_of(m, fs_write) || one_of(m, fs_write_dst)) {
		p = arg(c, cl, one_of(m, fs_write_dst) ? 1 : 0, d);
		emit_val(c, outside_path(&p) ? SS_CK_FS_WRITE_OUTSIDE :
		    SS_CK_FS_WRITE, at, &p);
	} else if (one_of(m, fs_delete) || one_of(m, fs_delete_rec)) {
		p = arg(c, cl, 0, d);
		opts = cl->nargs > 1 ? cl->args[1] : (TSNode){ 0 };
		if (one_of(m, fs_delete_rec) || (cl->nargs > 1 &&
		    opt_true(c, opts, "recursive")))
			emit_val(c, SS_CK_FS_DELETE_RECURSIVE, at, &p);
		else if (!outside_path(&p))
			emit_val(c, SS_CK_FS_DELETE, at, &p);
		if (outside_path(&p))
			emit_val(c, SS_CK_FS_DELETE_OUTSIDE, at, &p);
	} else if (one_of(m, fs_rename)) {
		p = arg(c, cl, 0, d);
		o = arg(c, cl, 1, d);
		emit_val(c, outside_path(&p) || outside_path(&o) ?
		    SS_CK_FS_WRITE_OUTSIDE : SS_CK_FS_RENAME, at, &o);
	} else if (one_of(m, fs_chmod)) {
		p = arg(c, cl, 0, d);
		emit_val(c, SS_CK_FS_CHMOD, at, &p);
	}
}

static int
is_cp_module(const char *s, size_t n)
{
	return (n == 13 && memcmp(s, "child_process", 13) == 0);
}

/* Is a module path one whose loading is itself worth reporting? */
static int
sensitive_module(const struct val *m)
{
	static const char *const mods[] = { "child_process", "vm", "fs",
	    "fs.promises", "net", "dgram", "http", "https", "worker_threads",
	    "cluster", "os", "dns", "tls", "module", NULL };
	size_t i;

	for (i = 0; mods[i]; i++)
		if (streq(m, mods[i]))
			return 1;
	return 0;
}

/* APIs whose name, when spelled through a built string, is reported even
 * without a call. */
static int
danger_path(const struct val *p)
{
	const char *dot;

	if (path_is(p, "eval") || path_is(p, "Function") ||
	    path_is(p, "require") || path_is(p, "process.binding") ||
	    path_is(p, "process._linkedBinding") ||
	    path_is(p, "process.dlopen") || path_is(p, "child_process") ||
	    one_of(p->s, vm_fns))
		return 1;
	if ((dot = last_dot(p)) == NULL)
		return 0;
	if (is_cp_module(p->s, (size_t)(dot - p->s)))
		return 1;
	if (is_fs_module(p->s, (size_t)(dot - p->s)) &&
	    (one_of(dot + 1, fs_write) || one_of(dot + 1, fs_delete) ||
	    one_of(dot + 1, fs_delete_rec) || one_of(dot + 1, fs_chmod)))
		return 1;
	return 0;
}

/* obj[key] where key is a string built at run time (concatenation,
 * escapes, char codes, decoding) and names a dangerous API. */
static void
check_subscript(struct ctx *c, TSNode n)
{
	struct val	 k, v;

	k = ev(c, field(c, n, F_INDEX), 0);
	if (!exact(&k) || !(k.f & VF_BUILT))
		return;
	v = ev(c, n, 0);
	if (v.k == VK_PATH && danger_path(&v))
		emit_val(c, SS_CK_OBF_HIDDEN_API, n, &v);
}

static void
check_call(struct ctx *c, TSNode n, int is_new)
{
	struct call	 cl;
	struct val	*p, a, cmd;
	const char	*dot, *m;
	char		 meth[64];
	int		 i, d = 0, sink = 0, danger = 0;
	const struct net_sink *ns;
	TSNode		 o;

	resolve_call(c, n, is_new, &cl, d);
	if (cl.is_import) {
		a = arg(c, &cl, 0, d);
		if (!exact(&a))
			emit_val(c, SS_CK_DYN_IMPORT, n, &a);
		else {
			a = module_path(c, &a);
			if (a.k == VK_PATH && is_cp_module(a.s, a.n))
				emit(c, SS_CK_CP_IMPORT, n, "child_process");
			if (a.f & VF_HIDDEN)
				emit_val(c, SS_CK_OBF_HIDDEN_API, n, &a);
		}
		return;
	}
	/* Module._load / module.constructor._load: loading code without
	 * require; the receiver is rarely resolvable, the name is enough. */
	if (K(c, cl.calleen) == K_MEMBER &&
	    text_is(c, field(c, cl.calleen, F_PROPERTY), "_load"))
		emit(c, SS_CK_MODULE_LOAD, n, "_load");
	if (cl.callee.k != VK_PATH)
		return;
	p = &cl.callee;
	dot = last_dot(p);
	m = dot ? dot + 1 : p->s;

	if (path_is(p, "eval") && !is_new) {
		emit(c, cl.direct && K(c, cl.calleen) == K_IDENT ?
		    SS_CK_EVAL : SS_CK_INDIRECT_EVAL, n, "eval");
		check_code(c, &cl, n, 0, 0, d);
		sink = danger = 1;
	} else if (path_is(p, "Function")) {
		/* Function('return this')(): the global-object idiom of UMD
		 * bundles, constant and harmless. */
		a = arg(c, &cl, 0, d);
		if (cl.nargs == 1 && exact(&a) && !(a.f & VF_BUILT) &&
		    (streq(&a, "return this") || streq(&a, "return this;")))
			return;
		emit(c, SS_CK_FUNCTION_CTOR, n, "Function");
		check_code(c, &cl, n, 0, MAXARGS, d);
		sink = danger = 1;
	} else if (path_is(p, "setTimeout") || path_is(p, "setInterval") ||
	    path_is(p, "setImmediate")) {
		a = arg(c, &cl, 0, d);
		if (a.k == VK_STR) {
			emit_val(c, SS_CK_TIMER_STRING, n, &a);
			check_code(c, &cl, n, 0, 0, d);
			sink = danger = 1;
		}
	} else if (one_of(p->s, vm_fns)) {
		emit(c, SS_CK_VM, n, p->s);
		check_code(c, &cl, n, 0, 0, d);
		sink = danger = 1;
	} else if (path_is(p, "require") && !is_new) {
		if (cl.nargs == 0)
			return;
		a = arg(c, &cl, 0, d);
		if (!exact(&a)) {
			emit_val(c, SS_CK_DYN_REQUIRE, n, &a);
			sink = danger = 1;
		} else {
			a = module_path(c, &a);
			if (a.k == VK_PATH && is_cp_module(a.s, a.n))
				emit(c, SS_CK_CP_IMPORT, n, "child_process");
			if ((a.f & VF_HIDDEN) && sensitive_module(&a))
				emit_val(c, SS_CK_OBF_HIDDEN_API, n, &a);
			sink = 1;
			danger = is_cp_module(a.s, a.n);
		}
	} else if ((dot && is_cp_module(p->s, (size_t)(dot - p->s)) &&
	    one_of(m, cp_fns)) || path_is(p, "execa") ||
	    path_is(p, "execa.command") || path_is(p, "execa.execaCommand") ||
	    path_is(p, "cross-spawn") || path_is(p, "shelljs.exec")) {
		sink = danger = 1;
		cmd = mkstr(c, "", 0, 0);
		for (i = 0; i < cl.nargs; i++) {
			o = cl.args[i];
			if (K(c, o) == K_OBJECT) {
				TSNode st = obj_prop(c, o, "stdio");

				if (opt_true(c, o, "detached") ||
				    (!ts_node_is_null(st) &&
				    text_is(c, st, "'ignore'")) ||
				    (!ts_node_is_null(st) &&
				    text_is(c, st, "\"ignore\"")))
					emit(c, SS_CK_CP_DETACHED, n, p->s);
				continue;
			}
			a = ev(c, o, d + 1);
			if (a.k == VK_ARR) {
				size_t j;
				char *q = aalloc(c, a.n + 1);

				if (q) {
					for (j = 0; j < a.n; j++)
						q[j] = a.s[j] == SEP_CH ? ' ' : a.s[j];
					a = mkstr(c, q, a.n, a.f);
				}
			}
			if (a.k == VK_STR) {
				if (cmd.n)
					cmd = concat(c, cmd, mkstr(c, " ", 1, 0));
				cmd = concat(c, cmd, a);
			}
		}
		emit_val(c, SS_CK_CP_CALL, n, cmd.n ? &cmd : p);
		if (shell_dangerous(&cmd))
			emit_val(c, SS_CK_SHELL_DANGEROUS, n, &cmd);
		if (sensitive_path(&cmd))
			emit_val(c, SS_CK_FS_SENSITIVE_READ, n, &cmd);
		check_code(c, &cl, n, 0, 0, d);
	} else if (dot && strcmp(m, "unref") == 0 && dot - p->s > 2 &&
	    dot[-1] == ')' && p->n > 14 && memcmp(p->s, "child_process.", 14)
	    == 0) {
		emit(c, SS_CK_CP_DETACHED, n, p->s);
		sink = danger = 1;
	} else if (path_is(p, "process.binding") ||
	    path_is(p, "process._linkedBinding")) {
		emit(c, SS_CK_PROCESS_BINDING, n, p->s);
		sink = danger = 1;
	} else if (path_is(p, "process.dlopen")) {
		emit(c, SS_CK_NATIVE_ADDON, n, p->s);
		sink = danger = 1;
	} else if (path_is(p, "worker_threads.Worker")) {
		if (cl.nargs > 1 && opt_true(c, cl.args[1], "eval")) {
			emit(c, SS_CK_WORKER_EVAL, n, p->s);
			check_code(c, &cl, n, 0, 0, d);
			danger = 1;
		}
		sink = 1;
	} else if (path_is(p, "dgram.createSocket")) {
		emit(c, SS_CK_NET_RAW_SOCKET, n, p->s);
		sink = 1;
	} else if (path_is(p, "String.fromCharCode") ||
	    path_is(p, "String.fromCodePoint")) {
		a = from_char_code(c, &cl, d);
		if (a.k == VK_STR && a.n > 0 && (cl.nargs >= 3 || (cl.nargs == 1 &&
		    K(c, cl.args[0]) == K_SPREAD)))
			emit_val(c, SS_CK_OBF_FROMCHARCODE, n, &a);
	} else if (path_is(p, "atob") || path_is(p, "Buffer.from")) {
		if (cl.nargs > 0 && K(c, cl.args[0]) == K_STRING &&
		    ts_node_end_byte(cl.args[0]) - ts_node_start_byte(cl.args[0])
		    >= 100) {
			a = arg(c, &cl, 1, d);
			if (path_is(p, "atob") || streq(&a, "base64") ||
			    streq(&a, "hex"))
				emit(c, SS_CK_OBF_ENCODED_PAYLOAD, n, p->s);
		}
	} else {
		for (ns = net_sinks; ns->path; ns++)
			if (streq(p, ns->path))
				break;
		if (ns->path && (ns->kind != NET_DATA || !is_new)) {
			check_net(c, n, &cl, ns->kind, d);
			sink = 1;
		} else if (dot && is_fs_module(p->s, (size_t)(dot - p->s)) &&
		    strlen(m) < sizeof(meth)) {
			check_fs(c, n, &cl, m, d);
			sink = 1;
		} else if (path_is(p, "rimraf") || path_is(p, "rimraf.sync") ||
		    path_is(p, "del") || path_is(p, "del.deleteSync")) {
			a = arg(c, &cl, 0, d);
			emit_val(c, SS_CK_FS_DELETE_RECURSIVE, n, &a);
			sink = 1;
		}
	}
	if (sink && ((p->f & VF_HIDDEN) || ((p->f & VF_BRACKET) && danger)))
		emit_val(c, SS_CK_OBF_HIDDEN_API, n, p);
}

/* ------------------------------------------------------------------ */
/* Bindings */

static void
bind_pattern(struct ctx *c, TSNode pat, struct val v)
{
	uint32_t	 i, cnt;
	TSNode		 ch, key, val;
	size_t		 len, klen;
	const char	*t, *kt;
	struct val	 kv;

	switch (K(c, pat)) {
	case K_IDENT:
		t = text(c, pat, &len);
		bind(c, t, len, v);
		return;
	case K_OBJECT_PATTERN:
		break;
	default:
		return;
	}
	cnt = ts_node_named_child_count(pat);
	for (i = 0; i < cnt; i++) {
		ch = ts_node_named_child(pat, i);
		switch (K(c, ch)) {
		case K_SHORTHAND_PAT:
			t = text(c, ch, &len);
			bind(c, t, len, member(c, v, t, len, 0));
			break;
		case K_OBJ_ASSIGN_PATTERN:
			val = field(c, ch, F_LEFT);
			t = text(c, val, &len);
			bind(c, t, len, member(c, v, t, len, 0));
			break;
		case K_PAIR_PATTERN:
			key = field(c, ch, F_KEY);
			val = field(c, ch, F_VALUE);
			if (K(c, val) == K_OBJ_ASSIGN_PATTERN ||
			    K(c, val) == K_OTHER)
				val = K(c, val) == K_OBJ_ASSIGN_PATTERN ?
				    field(c, val, F_LEFT) : first_named(c, val);
			if (K(c, key) == K_PROP_IDENT) {
				kt = text(c, key, &klen);
				bind_pattern(c, val, member(c, v, kt, klen, 0));
			} else {
				if (K(c, key) == K_COMPUTED_PROP)
					key = first_named(c, key);
				kv = ev(c, key, 1);
				bind_pattern(c, val, exact(&kv) ? member(c, v,
				    kv.s, kv.n, K(c, key) == K_STRING &&
				    !(kv.f & VF_ESCAPED) ? VF_BRACKET :
				    VF_HIDDEN) : UNK);
			}
			break;
		default:
			break;
		}
	}
}

static void
do_import(struct ctx *c, TSNode n)
{
	TSNode		 src = field(c, n, F_SOURCE), ch, g, name, alias;
	uint32_t	 i, j, cnt, gc;
	struct val	 spec, mod;
	size_t		 len;
	const char	*t;

	if (ts_node_is_null(src)) {
		/* TS: import x = require('m') */
		cnt = ts_node_named_child_count(n);
		for (i = 0; i < cnt; i++) {
			ch = ts_node_named_child(n, i);
			if (K(c, ch) != K_IMPORT_REQUIRE)
				continue;
			spec = ev(c, field(c, ch, F_SOURCE), 0);
			if (!exact(&spec))
				return;
			mod = module_path(c, &spec);
			name = first_named(c, ch);
			t = text(c, name, &len);
			bind(c, t, len, mod);
			if (is_cp_module(mod.s, mod.n))
				emit(c, SS_CK_CP_IMPORT, n, "child_process");
		}
		return;
	}
	/* import type { X } from 'm' loads nothing at run time. */
	cnt = ts_node_child_count(n);
	for (i = 0; i < cnt && i < 3; i++) {
		ch = ts_node_child(n, i);
		if (!ts_node_is_named(ch) && strcmp(ts_node_type(ch), "type") == 0)
			return;
	}
	spec = ev(c, src, 0);
	if (!exact(&spec))
		return;
	mod = module_path(c, &spec);
	if (mod.k != VK_PATH)
		return;
	if (is_cp_module(mod.s, mod.n))
		emit(c, SS_CK_CP_IMPORT, n, "child_process");
	cnt = ts_node_named_child_count(n);
	for (i = 0; i < cnt; i++) {
		ch = ts_node_named_child(n, i);
		if (K(c, ch) != K_IMPORT_CLAUSE)
			continue;
		gc = ts_node_named_child_count(ch);
		for (j = 0; j < gc; j++) {
			g = ts_node_named_child(ch, j);
			switch (K(c, g)) {
			case K_IDENT:
				t = text(c, g, &len);
				bind(c, t, len, mod);
				break;
			case K_NAMESPACE_IMPORT:
				name = first_named(c, g);
				t = text(c, name, &len);
				bind(c, t, len, mod);
				break;
			case K_NAMED_IMPORTS: {
				uint32_t s, sc = ts_node_named_child_count(g);

				for (s = 0; s < sc; s++) {
					TSNode sp = ts_node_named_child(g, s);
					size_t nl;
					const char *nt;

					if (K(c, sp) != K_IMPORT_SPEC)
						continue;
					name = field(c, sp, F_NAME);
					alias = field(c, sp, F_ALIAS);
					nt = text(c, name, &nl);
					if (K(c, name) == K_STRING && nl >= 2) {
						nt++;
						nl -= 2;
					}
					if (!ts_node_is_null(alias))
						t = text(c, alias, &len);
					else {
						t = nt;
						len = nl;
					}
					if (nl == 7 && memcmp(nt, "default", 7)
					    == 0)
						bind(c, t, len, mod);
					else
						bind(c, t, len, member(c, mod, nt,
						    nl, 0));
				}
				break;
			}
			default:
				break;
			}
		}
	}
}

static void
do_assign(struct ctx *c, TSNode n)
{
	TSNode		 l = field(c, n, F_LEFT), base;
	struct val	 v;
	struct sym	*s;
	size_t		 len;
	const char	*t;

	switch (K(c, l)) {
	case K_IDENT:
	case K_OBJECT_PATTERN:
		bind_pattern(c, l, ev(c, field(c, n, F_RIGHT), 0));
		break;
	case K_MEMBER:
	case K_SUBSCRIPT:
		/* obj.x = tainted  taints obj. */
		v = ev(c, field(c, n, F_RIGHT), 0);
		if (path_is(&v, "process.env"))
			v.f |= VF_ENV;
		if (!(v.f & VF_TAINT))
			break;
		base = l;
		while (K(c, base) == K_MEMBER || K(c, base) == K_SUBSCRIPT)
			base = field(c, base, F_OBJECT);
		if (K(c, base) != K_IDENT)
			break;
		t = text(c, base, &len);
		if ((s = sym_find(c, t, len, 1)) != NULL)
			s->v.f |= v.f & VF_TAINT;
		break;
	default:
		break;
	}
}

static void
do_aug_assign(struct ctx *c, TSNode n)
{
	TSNode		 l = field(c, n, F_LEFT);
	struct val	 a, b;
	size_t		 len;
	const char	*t;

	if (K(c, l) != K_IDENT || !text_is(c, field(c, n, F_OPERATOR), "+="))
		return;
	t = text(c, l, &len);
	a = ev(c, l, 0);
	b = ev(c, field(c, n, F_RIGHT), 0);
	if (a.k == VK_STR)
		bind(c, t, len, concat(c, a, b));
	else
		bind(c, t, len, (struct val){ VK_UNK, (a.f | b.f) & VF_TAINT,
		    NULL, 0 });
}

/* ------------------------------------------------------------------ */
/* Queries from rules: one combined query per language, predicates checked
 * here because the 0.20 C runtime does not apply them. */

static int
pred_ok(const struct ctx *c, const struct ss_pattern *pat,
    const TSQueryMatch *m)
{
	size_t		 i;
	uint16_t	 j;
	const char	*a = NULL, *b = NULL;
	size_t		 an = 0, bn = 0;
	int		 eq;
	char		 buf[1024];

	for (i = 0; i < pat->npreds; i++) {
		const struct ss_pred *p = &pat->preds[i];

		a = b = NULL;
		for (j = 0; j < m->capture_count; j++) {
			if (m->captures[j].index == p->capture)
				a = text(c, m->captures[j].node, &an);
			if (p->other_capture >= 0 && m->captures[j].index ==
			    (uint32_t)p->other_capture)
				b = text(c, m->captures[j].node, &bn);
		}
		if (a == NULL)
			continue;
		if (p->other_capture < 0) {
			b = p->str;
			bn = strlen(p->str);
		}
		if (p->op == SS_P_EQ || p->op == SS_P_NOT_EQ) {
			eq = b != NULL && an == bn && memcmp(a, b, an) == 0;
			if (eq != (p->op == SS_P_EQ))
				return 0;
		} else if (p->has_re) {
			if (an >= sizeof(buf))
				an = sizeof(buf) - 1;
			memcpy(buf, a, an);
			buf[an] = '\0';
			eq = regexec(&p->re, buf, 0, NULL, 0) == 0;
			if (eq != (p->op == SS_P_MATCH))
				return 0;
		}
	}
	return 1;
}

static void
run_queries(struct ctx *c, int lang, TSNode root)
{
	const struct ss_query	*q = &c->sc->queries[lang];
	TSQueryMatch		 m;
	TSPoint			 pt;

	if (q->q == NULL)
		return;
	ts_query_cursor_exec(c->sc->qc, q->q, root);
	while (ts_query_cursor_next_match(c->sc->qc, &m)) {
		if (m.pattern_index >= q->npats || m.capture_count == 0)
			continue;
		if (!pred_ok(c, &q->pats[m.pattern_index], &m))
			continue;
		pt = ts_node_start_point(m.captures[0].node);
		ss_emit_rule(c->sc, c->rep, q->pats[m.pattern_index].rule,
		    c->file, c->src, c->len,
		    ts_node_start_byte(m.captures[0].node), pt.row + 1,
		    pt.column + 1, "");
	}
}

/* ------------------------------------------------------------------ */

static const TSLanguage *
lang_fn(int i)
{
	switch (i) {
	case 0:
		return tree_sitter_javascript();
	case 1:
		return tree_sitter_typescript();
	default:
		return tree_sitter_tsx();
	}
}

int
ss_walk_init(struct ocss_skillscan *sc, struct ocss_err *err)
{
	int		 l, k, f;
	uint32_t	 s;
	const char	*name;

	if ((sc->parser = ts_parser_new()) == NULL ||
	    (sc->qc = ts_query_cursor_new()) == NULL) {
		ocss_err_set(err, "skillscan: out of memory");
		return -1;
	}
	for (l = 0; l < SS_NLANG; l++) {
		sc->lang[l] = lang_fn(l);
		if (!ts_parser_set_language(sc->parser, sc->lang[l])) {
			ocss_err_set(err, "skillscan: grammar %d has ABI %u, "
			    "this libtree-sitter accepts %u..%u; rebuild with "
			    "the grammar versions pinned in "
			    "contrib/fetch-grammars.sh", l,
			    ts_language_version(sc->lang[l]),
			    TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION,
			    TREE_SITTER_LANGUAGE_VERSION);
			return -1;
		}
		sc->nsym[l] = ts_language_symbol_count(sc->lang[l]);
		if ((sc->kind[l] = calloc(sc->nsym[l], sizeof(uint16_t)))
		    == NULL) {
			ocss_err_set(err, "skillscan: out of memory");
			return -1;
		}
		for (s = 0; s < sc->nsym[l]; s++) {
			if (ts_language_symbol_type(sc->lang[l], (TSSymbol)s) ==
			    TSSymbolTypeAuxiliary)
				continue;
			name = ts_language_symbol_name(sc->lang[l], (TSSymbol)s);
			if (name == NULL)
				continue;
			for (k = 1; k < K_MAX; k++) {
				/* Only named nodes, except the import and
				 * true keywords: an anonymous "string" is
				 * the TypeScript type keyword. */
				if (strcmp(name, kind_names[k]) != 0)
					continue;
				if (k != K_IMPORT && k != K_TRUE &&
				    ts_language_symbol_type(sc->lang[l],
				    (TSSymbol)s) != TSSymbolTypeRegular)
					continue;
				sc->kind[l][s] = (uint16_t)k;
			}
		}
		for (f = 0; f < F_NFLD; f++)
			sc->field[l][f] = ts_language_field_id_for_name(
			    sc->lang[l], fld_names[f],
			    (uint32_t)strlen(fld_names[f]));
	}
	return 0;
}

int
ss_walk_file(struct ocss_skillscan *sc, const char *name, int lang,
    const char *src, size_t len, struct ocss_skillscan_report *rep)
{
	struct ctx	 c;
	TSTree		*tree;
	TSTreeCursor	 cur;
	TSNode		 root, n, first_err;
	int		 k, have_err = 0, budget_said = 0;

	if (lang < 0 || lang >= SS_NLANG || len > UINT32_MAX)
		return -1;
	if (!ts_parser_set_language(sc->parser, sc->lang[lang]))
		return -1;
	ts_parser_reset(sc->parser);
	ts_parser_set_timeout_micros(sc->parser, 20 * 1000 * 1000);
	tree = ts_parser_parse_string(sc->parser, NULL, src, (uint32_t)len);
	if (tree == NULL) {
		ss_emit(sc, rep, SS_CK_SCAN_PARSE_ERROR, name, src, len, 0, 1, 1,
		    "parser gave up (timeout)");
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.sc = sc;
	c.rep = rep;
	c.file = name;
	c.src = src;
	c.len = len;
	c.kind = sc->kind[lang];
	c.nsym = sc->nsym[lang];
	c.fld = sc->field[lang];

	root = ts_tree_root_node(tree);
	memset(&first_err, 0, sizeof(first_err));
	cur = ts_tree_cursor_new(root);
	for (;;) {
		n = ts_tree_cursor_current_node(&cur);
		k = K(&c, n);
		switch (k) {
		case K_DECLARATOR:
			bind_pattern(&c, field(&c, n, F_NAME),
			    ev(&c, field(&c, n, F_VALUE), 0));
			break;
		case K_ASSIGN:
			do_assign(&c, n);
			break;
		case K_AUG_ASSIGN:
			do_aug_assign(&c, n);
			break;
		case K_IMPORT_STMT:
			do_import(&c, n);
			break;
		case K_CALL:
			check_call(&c, n, 0);
			break;
		case K_NEW:
			check_call(&c, n, 1);
			break;
		case K_SUBSCRIPT:
			check_subscript(&c, n);
			break;
		case K_ERROR:
			if (!have_err) {
				first_err = n;
				have_err = 1;
			}
			break;
		default:
			if (!have_err && ts_node_is_missing(n)) {
				first_err = n;
				have_err = 1;
			}
			break;
		}
		if (c.budget) {
			/* Pathological constant folding: forget every binding
			 * and go on with a fresh table, so code after the
			 * padding is still analysed; say so once. */
			if (!budget_said) {
				emit(&c, SS_CK_SCAN_BUDGET, n,
				    "64 MiB of folded constants");
				budget_said = 1;
			}
			arena_free(&c);
			c.arena_total = 0;
			free(c.syms);
			c.syms = NULL;
			c.nsyms = c.capsyms = 0;
			c.budget = c.oom = 0;
		}
		if (c.oom)
			break;
		/* Pre-order: down, else right, else up until a right. */
		if (ts_tree_cursor_goto_first_child(&cur))
			continue;
		while (!ts_tree_cursor_goto_next_sibling(&cur))
			if (!ts_tree_cursor_goto_parent(&cur))
				goto done;
	}
done:
	ts_tree_cursor_delete(&cur);
	if (have_err || ts_node_has_error(root)) {
		if (!have_err)
			first_err = root;
		emit(&c, SS_CK_SCAN_PARSE_ERROR, first_err, "syntax error");
	}
	if (!c.oom)
		run_queries(&c, lang, root);
	ts_tree_delete(tree);
	free(c.syms);
	arena_free(&c);
	return c.oom ? -1 : 0;
}
